"""Resume latency (issue 17): from asking to resume a paused execution to its resumed node
starting, against the floor of the same run: from asking for a fresh run of the same file to
its first node starting.

    .venv/bin/python benchmarks/resume.py [--repeat 9] [--nodes 20]

The workflow is a chain of `--nodes` python nodes. Each pair, alternating: a fresh run (the
floor: `RunService.execute` → the first `node_started` announced), then a run paused before
the last node (`break_before`) and its resume (`runs.resume.checkpoint` + `execute(resume=)`
→ the last node's `node_started` announced): the resume reads the checkpoint back from the
SQLite history, validates and resolves the file, gives the completed nodes and starts a new
child. Wall time (a shared machine: read the ratio, not the milliseconds); medians over pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flowrun.history.store import HistoryStore
from flowrun.runs.resume import checkpoint
from flowrun.runs.service import RunService


def chain(count: int) -> str:
    nodes = []
    for index in range(count):
        needs = f"\n    needs: [n{index - 1}]" if index else ""
        nodes.append(
            f"""  - id: n{index}
    type: python{needs}
    with:
      args: {{i: {index}}}
      code: |
        def main(i):
            return {{"i": i}}
"""
        )
    return "version: 1\nnodes:\n" + "".join(nodes)


class Starts:
    """When each node's `node_started` was announced (monotonic), per execution."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], float] = {}
        self.changed = asyncio.Event()

    def __call__(self, execution_id: str, event: dict[str, Any]) -> None:
        if event.get("event") == "node_started":
            self.seen[(execution_id, str(event["node"]))] = time.monotonic()
            self.changed.set()

    async def at(self, execution_id: str, node: str) -> float:
        while (execution_id, node) not in self.seen:
            self.changed.clear()
            await self.changed.wait()
        return self.seen[(execution_id, node)]


async def pair(service: RunService, starts: Starts, path: Path, last: str) -> tuple[float, float]:
    begun = time.monotonic()
    fresh = await service.execute(path)
    fresh_latency = await starts.at(fresh, "n0") - begun
    assert await service.wait(fresh) == "succeeded"

    paused = await service.execute(path, break_before=[last])
    assert await service.wait(paused) == "paused"
    begun = time.monotonic()
    resume = await checkpoint(service.store, paused)
    resumed = await service.execute(path, inputs=resume.inputs, resume=resume)
    resume_latency = await starts.at(resumed, last) - begun
    assert await service.wait(resumed) == "succeeded"
    return fresh_latency, resume_latency


async def main(repeat: int, count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "chain.workflow.yml"
        path.write_text(chain(count))
        store = await HistoryStore.open(folder / ".flowrun" / "history.sqlite3")
        starts = Starts()
        service = RunService(store, python=sys.executable, on_event=starts)
        try:
            await pair(service, starts, path, f"n{count - 1}")  # warm: caches, imports
            pairs = [await pair(service, starts, path, f"n{count - 1}") for _ in range(repeat)]
        finally:
            await service.shutdown()
            await store.close()
    fresh = statistics.median(p[0] for p in pairs) * 1000
    resumed = statistics.median(p[1] for p in pairs) * 1000
    ratios = statistics.median(p[1] / p[0] for p in pairs)
    print(f"chain of {count} python nodes, {repeat} pairs (medians, wall time)")
    print(f"  fresh run → first node started (floor): {fresh:7.1f} ms")
    print(f"  resume → paused node started:           {resumed:7.1f} ms")
    print(f"  resume / floor:                         {ratios:7.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--nodes", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.repeat, args.nodes))
