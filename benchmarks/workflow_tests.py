"""`flowrun test` speed: 100 tests over a 20-node workflow whose llm nodes are mocked.

    .venv/bin/python benchmarks/workflow_tests.py [--tests 100] [--bare 20]

1. Writes a 20-node workflow (15 transform nodes, 5 llm nodes) with `--tests` tests, each
   mocking the 5 llm nodes and checking the outputs, into a temp folder.
2. Floor: a bare engine run of the same workflow with the same mocks (`python -m
   flowrun_engine`, its resolved JSON on stdin, events to /dev/null), `--bare` times; the
   median.
3. `flowrun test DIR -j 1` and `-j 2` (real processes, a fresh history file each), wall time.
4. Prints: per-test overhead over the bare run = wall(-j 1) / tests - floor (budget
   < 100 ms), and the speed-up of -j 2 over -j 1 (budget >= 1.6x). Exit code 1 when a
   budget is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    tests = collect_file(path)
    assert tests.workflow is not None and not tests.problems, tests.problems
    case = tests.cases[0]
    assert case.test is not None
    resolved = resolve(tests.workflow, path, inputs=dict(case.test.inputs))
    resolved["options"]["mocks"] = engine_mocks(tests.workflow, case.test.mock)
    payload = json.dumps(resolved).encode()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "server")}
    times = []
    for _ in range(count):
        devnull = os.open(os.devnull, os.O_WRONLY)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "flowrun_engine"],
            input=payload,
            capture_output=True,
            env=env,
            check=True,
            pass_fds=(devnull,),
            preexec_fn=lambda fd=devnull: os.dup2(fd, 3),
        )
        times.append(time.perf_counter() - started)
        os.close(devnull)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=100)
    parser.add_argument("--bare", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowrun-bench-tests-") as tmp:
        folder = Path(tmp) / "flows"
        folder.mkdir()
        path = folder / "bench.workflow.yml"
        path.write_text(workflow_text(args.tests))
        floor = statistics.median(bare_runs(path, args.bare))
        one = flowrun_test(folder, 1, Path(tmp) / "one.sqlite3")
        two = flowrun_test(folder, 2, Path(tmp) / "two.sqlite3")
    overhead_ms = (one / args.tests - floor) * 1000
    speedup = one / two
    print(f"load: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores")
    print(f"floor: bare engine run of the 20-node workflow, median of {args.bare}: "
          f"{floor * 1000:.1f} ms")  # fmt: skip
    print(f"flowrun test -j 1: {one:.2f} s for {args.tests} tests ({one / args.tests * 1000:.1f} "
          f"ms per test = {one / args.tests / floor:.2f}x the floor)")  # fmt: skip
    print(f"flowrun test -j 2: {two:.2f} s")
    print(f"per-test overhead over a bare engine run: {overhead_ms:.1f} ms "
          f"(budget < {BUDGET_OVERHEAD_MS:.0f} ms)")  # fmt: skip
    print(f"-j 2 speed-up over -j 1: {speedup:.2f}x (budget >= {BUDGET_SPEEDUP}x)")
    return 0 if overhead_ms < BUDGET_OVERHEAD_MS and speedup >= BUDGET_SPEEDUP else 1


if __name__ == "__main__":
    sys.exit(main())
