"""Queue mode against the local pool: throughput, the queue's per-execution cost, queue wait,
and history writes/s on SQLite vs PostgreSQL. Ratios against the local pool measured in the
same run.

    .venv/bin/python benchmarks/scale.py [--executions 1000] [--workers 1,2,4] [--writes 2000]

`--executions` runs of a workflow of 4 chained shell nodes through `flowrun batch` (local
pool, `--max-concurrent 1`), then through `flowrun batch --queue` with 1, 2 and 4 `flowrun
worker`s of concurrency 1 each (so on a 2-core machine the figure shows the queue's cost and
the scaling shape, not the hardware's). Redis and PostgreSQL are started here (Debian's
`redis-server` and `postgresql`, temp folders, random ports; stopped by pid), as the tests
do. Per-execution overhead = (wall(queue, 1 worker) - wall(local)) / executions. Queue wait =
started_at - created_at of each execution in the history (p95). Outside the run: wall / n
minus the mean recorded run (finished_at - started_at): what an execution costs besides its
engine's run (the engine's start, the delivery, the records), local pool vs 1 worker: both
fork each engine child warm (fork server), so the difference is the queue's cost.
Submission: rows/s of `batch --queue` from its start until Redis holds all its tasks, no
worker running. History writes/s: whole recorded executions (create, 4 node events, finish)
through `HistoryStore` on each backend.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from flowrun.history.store import HistoryStore  # noqa: E402
from real_services import postgres_server, redis_server  # noqa: E402

WORKFLOW = """\
version: 1
id: chain4
inputs:
  n: {type: number}
nodes:
""" + "".join(
    f"""  - id: s{i}
    type: shell
    {"needs: [s" + str(i - 1) + "]" if i else ""}
    with:
      run: echo {i}
"""
    for i in range(4)
)


def flowrun(*args: str, cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "flowrun", *args], cwd=cwd, env=env, capture_output=True,
        text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"flowrun {args[0]} failed: {done.stderr[-2000:]}")
    return time.monotonic() - started


def start_workers(n: int, redis: str, db: str, work: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for index in range(n):
        folder = work / f"w{index}"
        folder.mkdir(exist_ok=True)
        argv = [sys.executable, "-m", "flowrun", "worker", "--queue", redis, "--db", db,
                "--name", f"w{index}@bench", "--concurrency", "1"]  # fmt: skip
        quiet = subprocess.DEVNULL
        procs.append(
            subprocess.Popen(argv, cwd=folder, stdout=quiet, stderr=quiet, start_new_session=True)
        )
    time.sleep(5)  # the workers connect
    return procs


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        proc.wait()


def submit_rate(n: int, redis: str, db: str, work: Path) -> float:
    """Rows/s of `batch --queue` taking its rows to the queue (no worker running): from its
    start until Redis holds `n` tasks; the batch is then killed, the queue and history
    emptied."""
    import redis as redis_py

    client = redis_py.Redis.from_url(redis)
    argv = [sys.executable, "-m", "flowrun", "batch", "chain4.workflow.yml", "--inputs",
            "rows.jsonl", "--queue", redis, "--db", db]  # fmt: skip
    quiet = subprocess.DEVNULL
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=work, stdout=quiet, stderr=quiet, start_new_session=True)
    try:
        while client.llen("flowrun") < n:
            if proc.poll() is not None:
                raise SystemExit("flowrun batch --queue ended before it sent its rows")
            time.sleep(0.01)
        elapsed = time.monotonic() - started
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    client.flushdb()
    client.close()
    asyncio.run(recorded(db, True))
    return n / elapsed


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0


async def recorded(location: Path | str, clear: bool) -> tuple[list[float], float]:
    """(queue waits: started_at - created_at, s; mean run: finished_at - started_at, ms)."""
    store = await HistoryStore.open(location)
    try:
        rows = await store._db.all(  # the benchmark reads the raw columns
            "SELECT created_at, started_at, finished_at FROM executions "
            "WHERE started_at IS NOT NULL"
        )
        if clear:
            await store._db.write(lambda conn: conn.execute("DELETE FROM executions"))
    finally:
        await store.close()
    waits = [float(r["started_at"]) - float(r["created_at"]) for r in rows]
    runs = [float(r["finished_at"]) - float(r["started_at"]) for r in rows]
    return waits, 1000 * sum(runs) / max(1, len(runs))


async def history_writes(location: Path | str, count: int) -> float:
    store = await HistoryStore.open(location, retention=count + 1)
    plan = {"stages": [{"id": None, "loop": False, "nodes": [{"id": "a", "type": "shell"}]}]}
    started = time.monotonic()
    try:
        for index in range(count):
            eid = f"bench{index:08d}"
            await store.create_execution(
                execution_id=eid, workflow_id="w", file="/w.yml", trigger=None, inputs=None
            )
            await store.record_event(eid, {"event": "execution_started", "plan": plan})
            for event in ("node_started", "node_finished"):
                await store.record_event(eid, {"event": event, "node": "a", "attempt": 1,
                                               "status": "succeeded", "output": index})  # fmt: skip
            await store.finish(eid, status="succeeded", outputs=None, error=None)
    finally:
        await store.close()
    return count / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--writes", type=int, default=2000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="flowrun-scale-"))
    pg_folder = Path(tempfile.mkdtemp(prefix="flowrun-scale-pg-"))
    try:
        return run(args, work, pg_folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(pg_folder, ignore_errors=True)


def run(args: argparse.Namespace, work: Path, pg_folder: Path) -> int:
    (work / "chain4.workflow.yml").write_text(WORKFLOW)
    (work / ".git").mkdir()
    (work / "rows.jsonl").write_text("".join(f'{{"n": {i}}}\n' for i in range(args.executions)))
    batch = ("batch", "chain4.workflow.yml", "--inputs", "rows.jsonl", "--out", "out.jsonl")
    n = args.executions
    table: list[tuple[str, float, Any, Any]] = []
    local = flowrun(*batch, "--max-concurrent", "1", cwd=work)
    _waits, local_run = asyncio.run(recorded(work / ".flowrun" / "history.sqlite3", False))
    outside = {"local": local / n * 1000 - local_run}  # ms of each execution not in its run
    table.append(("local pool, 1 at a time", n / local, "-", "-"))
    with redis_server(work / "redis") as redis, postgres_server(pg_folder) as pg:
        db = pg.new_database()
        asyncio.run(history_writes(db, 1))  # schema
        submitted = submit_rate(n, redis.url, db, work)
        for count in (int(c) for c in args.workers.split(",")):
            procs = start_workers(count, redis.url, db, work)
            try:
                wall = flowrun(*batch, "--queue", redis.url, "--db", db, cwd=work)
            finally:
                stop_workers(procs)
            waits, run_ms = asyncio.run(recorded(db, True))
            overhead = (wall - local) / n * 1000 if count == 1 else None
            if count == 1:
                outside["queue"] = wall / n * 1000 - run_ms
            table.append((f"queue, {count} worker(s)", n / wall, overhead, p95(waits)))
        sqlite_rate = asyncio.run(history_writes(work / "h.sqlite3", args.writes))
        pg_rate = asyncio.run(history_writes(pg.new_database(), args.writes))
    print(f"{n} executions of 4 chained shell nodes; load: {os.getloadavg()[0]:.1f}")
    print(f"{'how':28} {'exec/s':>8} {'x local':>8} {'queue ms/exec':>14} {'p95 wait s':>11}")
    for how, rate, overhead, wait in table:
        over = f"{overhead:.0f}" if isinstance(overhead, float) else "-"
        wait_text = f"{wait:.2f}" if isinstance(wait, float) else "-"
        print(f"{how:28} {rate:8.2f} {rate / table[0][1]:8.2f} {over:>14} {wait_text:>11}")
    print(f"per execution, outside its run (start, delivery, records, follow-up): local pool "
          f"{outside['local']:.0f} ms, queue with 1 worker {outside['queue']:.0f} ms; "
          f"the run itself (engine started): local {local_run:.0f} ms")  # fmt: skip
    print(f"batch --queue sends its rows to the queue (from its start, no worker): "
          f"{submitted:.0f} rows/s")  # fmt: skip
    print(f"history writes/s (whole executions): SQLite {sqlite_rate:.0f}, "
          f"PostgreSQL {pg_rate:.0f} ({pg_rate / sqlite_rate:.2f}x)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
