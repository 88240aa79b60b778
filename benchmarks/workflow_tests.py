"""`flowrun test` speed: 100 tests over a 20-node workflow whose llm nodes are mocked.

    .venv/bin/python benchmarks/workflow_tests.py [--tests 100] [--bare 20]

1. Writes a 20-node workflow (15 transform nodes, 5 llm nodes) with `--tests` tests, each
   mocking the 5 llm nodes and checking the outputs, into a temp folder.
2. Floor: a bare engine run of the same workflow with the same mocks, started the way every
   test's execution is (`EngineChild`: the same wrapper, scratch folder, environment and
   process containment), without the CLI, the history, `RunService` or the expectations;
   `--bare` runs, half before and half after the `flowrun test` runs, so both see the same
   load; the median. (A plain `python -m flowrun_engine` with the benchmark's environment
   measured heavier than a whole test: not the floor of what a test does.)
3. `flowrun test DIR -j 1` and `-j 2` (real processes, a fresh history file each), wall time.
4. Prints: per-test overhead over the bare run = wall(-j 1) / tests - floor (target
   < 100 ms), and the speed-up of -j 2 over -j 1 (target >= 1.6x), each with ok / NO. Exit
   code 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flowrun.runs.launch import new_execution_id, spec_for_run
from flowrun.runs.supervisor import EngineChild
from flowrun.spec.resolve import resolve
from flowrun.testing.cases import collect_file
from flowrun.testing.mocks import engine_mocks

BUDGET_OVERHEAD_MS = 100.0
BUDGET_SPEEDUP = 1.6
LLM_NODES = 5
TRANSFORM_NODES = 15


def workflow_text(tests: int) -> str:
    lines = ["version: 1", "inputs:", "  n: {type: number, default: 1}", "nodes:"]
    previous = None
    for index in range(TRANSFORM_NODES + LLM_NODES):
        needs = f", needs: [{previous}]" if previous else ""
        if index % 4 == 1:
            node_id = f"ask{index}"
            lines.append(
                f"  - {{id: {node_id}, type: llm{needs}, with: {{provider: ollama, model: m, "
                f'prompt: "${{{{ inputs.n }}}}"}}}}'
            )
        else:
            node_id = f"step{index}"
            value = f"${{{{ inputs.n + {index} }}}}"
            lines.append(
                f'  - {{id: {node_id}, type: transform{needs}, with: {{value: "{value}"}}}}'
            )
        previous = node_id
    lines += ["outputs:", f"  last: ${{{{ nodes.{previous}.output }}}}", "tests:"]
    asks = [f"ask{i}" for i in range(TRANSFORM_NODES + LLM_NODES) if i % 4 == 1]
    for number in range(tests):
        lines.append(f"  - name: test {number}")
        lines.append(f"    inputs: {{n: {number}}}")
        lines.append("    mock:")
        lines += [
            f"      {a}: {{content: answer {number}, usage: {{input_tokens: 3}}}}" for a in asks
        ]
        lines.append("    expect:")
        lines.append(f"      outputs: {{last: {number + TRANSFORM_NODES + LLM_NODES - 1}}}")
    return "\n".join(lines) + "\n"


def bare_runs(path: Path, count: int) -> list[float]:
    """`count` supervised engine runs of the first test's inputs and mocks, in seconds."""
    tests = collect_file(path)
    assert tests.workflow is not None and not tests.problems, tests.problems
    case = tests.cases[0]
    assert case.test is not None
    resolved = resolve(tests.workflow, path, inputs=dict(case.test.inputs))
    resolved["options"]["mocks"] = engine_mocks(tests.workflow, case.test.mock)
    return asyncio.run(_supervised(resolved, path, count))


async def _supervised(resolved: dict[str, Any], path: Path, count: int) -> list[float]:
    times = []
    for _ in range(count):
        finished: list[str] = []

        async def on_event(event: dict[str, Any], seen: list[str] = finished) -> None:
            if event.get("event") == "node_finished":
                seen.append(str(event.get("node")))

        spec = spec_for_run(resolved, path, sys.executable, new_execution_id(), {}, "test")
        started = time.perf_counter()
        result = await EngineChild(spec, on_event=on_event).run()
        times.append(time.perf_counter() - started)
        nodes = TRANSFORM_NODES + LLM_NODES
        assert result.status == "succeeded" and len(finished) == nodes, (result, finished)
    return times


def flowrun_test(folder: Path, jobs: int, db: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "flowrun", "test", str(folder), "-j", str(jobs), "--db", str(db),
         "--python", sys.executable, "--json"],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    wall = time.perf_counter() - started
    summary = json.loads(done.stdout)["summary"]
    assert summary["passed"] == summary["total"], (summary, done.stderr[-2000:])
    return wall


def verdict(met: bool) -> str:
    return "ok" if met else "NO"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=100)
    parser.add_argument("--bare", type=int, default=20)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="flowrun-bench-tests-") as tmp:
        folder = Path(tmp) / "flows"
        folder.mkdir()
        path = folder / "bench.workflow.yml"
        path.write_text(workflow_text(args.tests))
        bare = bare_runs(path, args.bare // 2)
        one = flowrun_test(folder, 1, Path(tmp) / "one.sqlite3")
        two = flowrun_test(folder, 2, Path(tmp) / "two.sqlite3")
        bare += bare_runs(path, args.bare - args.bare // 2)
    floor = statistics.median(bare)
    per_test = one / args.tests
    overhead_ms = (per_test - floor) * 1000
    speedup = one / two
    overhead_ok = overhead_ms < BUDGET_OVERHEAD_MS
    speedup_ok = speedup >= BUDGET_SPEEDUP
    print(f"load: {load_before:.2f} before, {os.getloadavg()[0]:.2f} after (1 min) "
          f"on {os.cpu_count()} cores")  # fmt: skip
    print(f"floor: bare engine run of the 20-node workflow (supervised, no history), median "
          f"of {len(bare)}: {floor * 1000:.1f} ms (min {min(bare) * 1000:.1f}, "
          f"max {max(bare) * 1000:.1f})")  # fmt: skip
    print(f"flowrun test -j 1: {one:.2f} s for {args.tests} tests ({per_test * 1000:.1f} "
          f"ms per test = {per_test / floor:.2f}x the floor)")  # fmt: skip
    print(f"flowrun test -j 2: {two:.2f} s")
    print(f"per-test overhead over a bare engine run: {overhead_ms:.1f} ms "
          f"(target < {BUDGET_OVERHEAD_MS:.0f} ms): {verdict(overhead_ok)}")  # fmt: skip
    print(f"-j 2 speed-up over -j 1: {speedup:.2f}x (target >= {BUDGET_SPEEDUP}x): "
          f"{verdict(speedup_ok)}")  # fmt: skip
    return 0 if overhead_ok and speedup_ok else 1


if __name__ == "__main__":
    sys.exit(main())
