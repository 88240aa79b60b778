"""`flowrun stats` over a generated history, with ratios against floors measured in the same run.

    .venv/bin/python benchmarks/stats.py [--executions 100000] [--nodes 5] [--workflows 100]

1. Fills a temp database (the current schema, by `migrations.migrate`) with `--executions`
   finished runs of `--nodes` nodes each over `--workflows` workflows and 30 days, two of the
   nodes LLM calls with tokens and a cost, as the store writes them: the execution rows with
   their totals, the node rows, and `node_stats` (what each execution's end adds).
2. Times `HistoryStore.workflow_costs` (all workflows; one workflow; all with `since` 7 days)
   in process: medians of 10 calls. Floor: `SELECT 1` through the same store.
3. Times the command end to end, `flowrun stats --json --db …` and `flowrun stats --since 7d`
   in a subprocess: medians of 5 runs. Floor: `flowrun --version` (interpreter and CLI start).
Budget: 200 ms for `flowrun stats` over all workflows, end to end. Exit code 1 when missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from flowrun.history import migrations
from flowrun.history.rows import NODE_STATS
from flowrun.history.store import HistoryStore

BUDGET_MS = 200.0
NOW = time.time()
SPAN = 30 * 86400.0

EXECUTION_SQL = (
    "INSERT INTO executions (id, workflow_id, file, status, trigger, inputs, outputs, plan, "
    "created_at, started_at, finished_at, updated_at, duration_ms, owner_pid, llm_calls, "
    "input_tokens, output_tokens, cost_usd) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?,?,?)"
)
NODE_SQL = (
    "INSERT INTO node_executions (execution_id, node_id, iteration, attempt, status, "
    "started_at, finished_at, duration_ms, llm_calls, input_tokens, output_tokens, cost_usd) "
    "VALUES (?, ?, 0, 1, 'succeeded', ?, ?, ?, ?, ?, ?, ?)"
)


def fill(db: Path, executions: int, nodes: int, workflows: int) -> float:
    started = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    migrations.migrate(conn, str(db))
    conn.execute("PRAGMA synchronous = OFF")
    rng = random.Random(18)
    plan = json.dumps(
        {"stages": [{"id": None, "loop": False, "nodes": [
            {"id": f"n{k}", "type": "llm" if k < 2 else "http", "name": None}
            for k in range(nodes)]}]}
    )  # fmt: skip
    trigger = json.dumps({"method": "POST", "path": "/hook", "headers": {}, "body": {"x": 1}})
    for first in range(0, executions, 2000):
        conn.execute("BEGIN")
        rows, node_rows = [], []
        for index in range(first, min(first + 2000, executions)):
            run_id = f"{index:08x}{rng.getrandbits(96):024x}"
            workflow = f"wf{index % workflows:03d}"
            t = NOW - SPAN + SPAN * index / executions
            took = [rng.randint(5, 3000) for _ in range(nodes)]
            tokens = [(rng.randint(100, 2000), rng.randint(10, 500)) if k < 2 else None
                      for k in range(nodes)]  # fmt: skip
            costs = [(i * 0.15 + o * 0.6) / 1e6 if tok else None
                     for tok in tokens for (i, o) in [tok or (0, 0)]]  # fmt: skip
            status = "succeeded" if rng.random() < 0.93 else "failed"
            total_in = sum(tok[0] for tok in tokens if tok)
            total_out = sum(tok[1] for tok in tokens if tok)
            rows.append((run_id, workflow, f"/ws/{workflow}.workflow.yml", status, trigger,
                         json.dumps({"n": index}), json.dumps({"summary": "x" * 200}), plan, t, t,
                         t + sum(took) / 1000, t, sum(took), 2, total_in, total_out,
                         sum(c for c in costs if c)))  # fmt: skip
            for k in range(nodes):
                tok = tokens[k]
                node_rows.append((run_id, f"n{k}", t, t + took[k] / 1000, took[k],
                                  1 if tok else None, tok[0] if tok else None,
                                  tok[1] if tok else None, costs[k]))  # fmt: skip
        conn.executemany(EXECUTION_SQL, rows)
        conn.executemany(NODE_SQL, node_rows)
        conn.executemany(NODE_STATS, [(row[0],) for row in rows])
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


async def median_ms(call: Callable[[], Awaitable[Any]], repeat: int = 10) -> float:
    await call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def in_process(db: Path) -> dict[str, float]:
    store = await HistoryStore.open(db)
    try:
        week = NOW - 7 * 86400
        return {
            "floor (SELECT 1)": await median_ms(lambda: store.status_of("missing")),
            "all workflows": await median_ms(lambda: store.workflow_costs()),
            "one workflow": await median_ms(lambda: store.workflow_costs(workflow_id="wf042")),
            "all, since 7d": await median_ms(lambda: store.workflow_costs(since=week)),
        }
    finally:
        await store.close()


def command_ms(argv: list[str], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[1:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--workflows", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowrun-stats-") as folder:
        db = Path(folder) / "history.sqlite3"
        took = fill(db, args.executions, args.nodes, args.workflows)
        print(f"filled {args.executions:,} executions x {args.nodes} nodes in {took:.1f} s")
        timings = asyncio.run(in_process(db))
        floor = timings["floor (SELECT 1)"]
        for name, ms in timings.items():
            print(f"  workflow_costs {name:18} {ms:7.1f} ms  ({ms / floor:6.1f}x floor)")
        flowrun = [sys.executable, "-m", "flowrun"]
        start = command_ms([*flowrun, "--version"])
        whole = command_ms([*flowrun, "stats", "--json", "--db", str(db)])
        week = command_ms([*flowrun, "stats", "--since", "7d", "--db", str(db)])
        print(f"  flowrun --version (floor)        {start:7.1f} ms")
        print(f"  flowrun stats --json             {whole:7.1f} ms  ({whole / start:.2f}x floor)")
        print(f"  flowrun stats --since 7d (table) {week:7.1f} ms  ({week / start:.2f}x floor)")
        ok = whole < BUDGET_MS
        print(f"budget {BUDGET_MS:.0f} ms for `flowrun stats`: {'met' if ok else 'MISSED'}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
