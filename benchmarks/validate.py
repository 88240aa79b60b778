"""Validation speed: a generated workflow of 1,000 and 10,000 nodes.

The workflow is a chain of hubs, each hub fanning out to a few leaves; every node reads its
upstream in an expression (`${{ nodes.<parent>.output }}`), so every rule has work to do.
Prints the floor (interpreter start-up, package import), the median time of `validate_text`
after import, the 10,000/1,000 ratio (≈10 means linear) and the budget (1,000 nodes < 100 ms).

    .venv/bin/python benchmarks/validate.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

BUDGET_MS = 100.0
FAN_OUT = 4


def generate(count: int) -> str:
    lines = [
        "version: 1",
        f"name: Generated {count} nodes",
        "inputs:",
        "  seed: {type: number, default: 1}",
    ]
    lines.append("nodes:")
    hub = None
    for i in range(count):
        node_id = f"n{i}"
        if i % (FAN_OUT + 1) == 0:
            parent, node_type = hub, "transform"
            hub = node_id
        else:
            parent, node_type = hub, "shell"
        lines.append(f"  - id: {node_id}")
        lines.append(f"    type: {node_type}")
        if parent is None:
            lines.append("    with: {value: '${{ inputs.seed }}'}")
            continue
        lines.append(f"    needs: [{parent}]")
        if node_type == "shell":
            lines.append(f"    with: {{run: 'echo ${{{{ nodes.{parent}.output }}}}', parse: text}}")
        else:
            lines.append("    with:")
            lines.append(f"      value: ${{{{ nodes.{parent}.output + 1 }}}}")
    lines.append(f"outputs: {{last: '${{{{ nodes.{hub}.output }}}}'}}")
    return "\n".join(lines) + "\n"


def seconds_of(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_validate(text: str, runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of validate_text (CPU time is steadier on a
    shared machine)."""
    from flowrun.validate import validate_text

    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = validate_text(text, "bench.workflow.yml")
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert not result.diagnostics, result.diagnostics[:3]
    return statistics.median(wall), statistics.median(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    startup = seconds_of([sys.executable, "-c", "pass"], 5)
    with_import = seconds_of([sys.executable, "-c", "import flowrun.validate"], 5)
    print(f"floor: python start-up {startup * 1000:7.1f} ms")
    print(f"       + import of flowrun.validate {max(with_import - startup, 0) * 1000:7.1f} ms")

    median_validate(generate(50), 2)  # warm-up: first-call costs (regexes, pydantic schemas)
    small, small_cpu = median_validate(generate(1_000), args.runs)
    large, large_cpu = median_validate(generate(10_000), max(3, args.runs // 2))
    print(
        f"validate_text  1,000 nodes: {small * 1000:8.1f} ms wall, {small_cpu * 1000:8.1f} ms CPU"
    )
    print(
        f"validate_text 10,000 nodes: {large * 1000:8.1f} ms wall, {large_cpu * 1000:8.1f} ms CPU"
    )
    ratio, ratio_cpu = large / small, large_cpu / small_cpu
    print(f"ratio 10,000 / 1,000: {ratio:.1f} wall, {ratio_cpu:.1f} CPU (10 = linear)")
    for label, seconds in (("wall", small), ("CPU", small_cpu)):
        verdict = "within" if seconds * 1000 < BUDGET_MS else "OVER"
        print(f"budget: 1,000 nodes < {BUDGET_MS:.0f} ms after the import ({label}): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
