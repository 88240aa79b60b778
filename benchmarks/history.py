"""The execution history under load, with ratios against floors measured in the same run.

    .venv/bin/python benchmarks/history.py [--executions 100000] [--nodes 20] [--repeat 5]

1. Fills a temp database with `--executions` runs of `--nodes` nodes each (100 workflows),
   shaped as the store writes them (`generated_history.fill`), indexes in place.
2. Lists the newest 50 executions of one workflow (budget < 20 ms) and opens one execution
   tree (budget < 10 ms) through HistoryStore: medians of 50 calls each. Floor: a
   `SELECT 1` through the same store (the aiosqlite round trip).
3. Runs a 1,000-node workflow through the real RunService and engine, with recording on
   and off (a store whose record_event drops events), alternating, `--repeat` times each:
   overhead = median over rounds of wall(on) / wall(off) - 1, each round's two runs back to
   back (budget < 10 %). The disk is synced first, so the fill's dirty pages do not land
   on the measured runs. Wall time is noisy on a busy machine, so the CPU time the
   supervising process spends (all its threads, i.e. the store's work) is printed too:
   (cpu(on) - cpu(off)) / wall(off).
4. Prints the database size per node record.
Exit code 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from flowrun.history.store import HistoryStore
from generated_history import fill, median_ms

BUDGET_LIST_MS = 20.0
BUDGET_TREE_MS = 10.0
BUDGET_OVERHEAD = 0.10
REPEAT = 50


async def reads(db: Path) -> tuple[float, float, float]:
    store = await HistoryStore.open(db)
    try:
        ids = [row["id"] for row in await store.list_executions(workflow_id="wf042", limit=500)]
        floor = await median_ms(lambda: store.status_of("missing"), REPEAT)
        listing = await median_ms(
            lambda: store.list_executions(workflow_id="wf042", limit=50), REPEAT
        )
        picks = iter(random.choices(ids, k=200))
        tree = await median_ms(lambda: store.execution_tree(next(picks)), REPEAT)
        return floor, listing, tree
    finally:
        await store.close()


class NotRecording(HistoryStore):
    async def record_event(self, execution_id: str, event: dict[str, Any]) -> Awaitable[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)  # "committed" at once: announced without being written
        return done


def big_workflow(folder: Path, nodes: int) -> Path:
    path = folder / "big.workflow.yml"
    lines = ["version: 1", "id: big", "nodes:"]
    lines += [f"  - {{id: n{i:04d}, type: transform, with: {{value: {i}}}}}" for i in range(nodes)]
    path.write_text("\n".join(lines) + "\n")
    return path


async def one_run(store_class: type[HistoryStore], db: Path, workflow: Path) -> tuple[float, float]:
    """Wall time of the run, and CPU time of this (the supervising) process, all threads."""
    from flowrun.runs.launch import default_python
    from flowrun.runs.service import RunService

    store = await store_class.open(db)
    service = RunService(store, python=default_python())
    try:
        started, cpu = time.perf_counter(), time.process_time()
        execution_id = await service.execute(workflow)
        status = await service.wait(execution_id)
        await store.flush()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if status != "succeeded":
            raise SystemExit(f"the benchmark run ended {status}")
        return elapsed, cpu
    finally:
        await service.shutdown()
        await store.close()


async def recording(
    folder: Path, repeat: int, nodes: int
) -> tuple[tuple[float, float], tuple[float, float], float, int]:
    """(wall, cpu) medians with recording on, then off; the median paired wall ratio; and
    the number of nodes in the recorded tree."""
    workflow = big_workflow(folder, nodes)
    db = folder / "record.sqlite3"
    on: list[tuple[float, float]] = []
    off: list[tuple[float, float]] = []
    os.sync()
    await one_run(HistoryStore, db, workflow)  # warm-up: imports, page cache
    for round_ in range(repeat):  # alternate the order, so drift hits both alike
        pair = [(off, NotRecording), (on, HistoryStore)]
        for times, store_class in pair if round_ % 2 == 0 else reversed(pair):
            times.append(await one_run(store_class, db, workflow))
    store = await HistoryStore.open(db)
    try:
        last = (await store.list_executions(limit=1))[0]["id"]
        recorded = len((await store.execution_tree(last))["children"])
    finally:
        await store.close()
    ratio = statistics.median(a[0] / b[0] for a, b in zip(on, off, strict=True))
    return _medians(on), _medians(off), ratio, recorded


def _medians(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--run-nodes", type=int, default=1000)
    args = parser.parse_args()
    random.seed(7)
    ok = True
    with tempfile.TemporaryDirectory(prefix="flowrun-bench-") as tmp:
        folder = Path(tmp)
        db = folder / "history.sqlite3"
        seconds = fill(db, args.executions, args.nodes)
        records = args.executions * args.nodes
        print(f"filled {args.executions:,} executions x {args.nodes} nodes "
              f"({records:,} node records) in {seconds:.1f} s")  # fmt: skip
        size = db.stat().st_size
        print(f"database size: {size / 1e6:.1f} MB, {size / records:.0f} bytes per node record "
              "(execution rows and indexes included)")  # fmt: skip
        floor, listing, tree = asyncio.run(reads(db))
        print(f"floor (SELECT through the store):   {floor:6.2f} ms")
        ok &= report("list newest 50 of one workflow", listing, floor, BUDGET_LIST_MS)
        ok &= report(f"open one tree ({args.nodes} nodes)", tree, floor, BUDGET_TREE_MS)
        (on, on_cpu), (off, off_cpu), ratio, recorded = asyncio.run(
            recording(folder, args.repeat, args.run_nodes)
        )
        overhead = ratio - 1
        cpu_share = (on_cpu - off_cpu) / off
        verdict = "ok" if overhead < BUDGET_OVERHEAD else "OVER BUDGET"
        print(f"{args.run_nodes}-node run, recording off (floor): {off * 1000:7.1f} ms wall, "
              f"{off_cpu * 1000:6.1f} ms CPU in the supervising process")  # fmt: skip
        print(f"{args.run_nodes}-node run, recording on:          {on * 1000:7.1f} ms wall, "
              f"{on_cpu * 1000:6.1f} ms CPU")  # fmt: skip
        print(f"recording overhead: wall {overhead:+.1%} (budget < {BUDGET_OVERHEAD:.0%}) "
              f"{verdict}; the store's extra CPU is {cpu_share:.1%} of the run's wall time; "
              f"{recorded} nodes in the recorded tree")  # fmt: skip
        ok &= overhead < BUDGET_OVERHEAD and recorded == args.run_nodes
    return 0 if ok else 1


def report(name: str, value: float, floor: float, budget: float) -> bool:
    verdict = "ok" if value < budget else "OVER BUDGET"
    print(f"{name + ':':35} {value:6.2f} ms  ({value / floor:.1f}x floor; "
          f"budget < {budget:.0f} ms) {verdict}")  # fmt: skip
    return value < budget


if __name__ == "__main__":
    sys.exit(main())
