"""Side-by-side table: the four workloads in plain Python, PocketFlow, Hamilton, Luigi,
Dagster and Prefect 3.

    bash benchmarks/peers/setup.sh                      # once: creates benchmarks/peers/.venv
    .venv/bin/python benchmarks/run.py --peers          # Flowrun, then this table

or alone: `benchmarks/peers/.venv/bin/python benchmarks/peers/run.py [--repeat 5]`.
Each cell is the median wall time (s) of cold processes (`python workloads.py TOOL W`);
Flowrun's column comes from `--flowrun FILE` (written by benchmarks/run.py). Prefect and
Dagster take seconds per run, so they get `--slow-repeat` runs (default 3).
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

HERE = Path(__file__).resolve().parent
WORKLOADS = ("W1", "W2", "W3", "W4")
TOOLS = ("python", "pocketflow", "hamilton", "luigi", "dagster", "prefect")
SLOW = {"dagster", "prefect"}


def timed(argv: list[str], env: dict[str, str], cwd: str) -> float | str:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
        return f"failed: {tail[0][:80]}"
    return elapsed


def measure(tool: str, workload: str, repeat: int, env: dict[str, str], cwd: str) -> str:
    argv = [sys.executable, str(HERE / "workloads.py"), tool, workload]
    first = timed(argv, env, cwd)  # warm-up (and Prefect's first-run database setup)
    if isinstance(first, str):
        return first
    runs: list[float] = []
    for _ in range(repeat):
        result = timed(argv, env, cwd)
        if isinstance(result, str):
            return result
        runs.append(result)
    return f"{statistics.median(runs):.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--slow-repeat", type=int, default=3)
    parser.add_argument("--flowrun", type=Path, help="JSON {W1: seconds, ...} from run.py")
    parser.add_argument("--floor", type=float, help="python -c pass, measured by run.py")
    parser.add_argument("--tools", default=",".join(TOOLS))
    args = parser.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    with tempfile.TemporaryDirectory(prefix="flowrun-peers-") as tmp:
        env = dict(os.environ)
        env.update(
            PREFECT_HOME=str(Path(tmp) / "prefect"),
            DAGSTER_HOME=str(Path(tmp) / "dagster"),
            PREFECT_LOGGING_LEVEL="ERROR",
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            DO_NOT_TRACK="1",
        )
        Path(env["DAGSTER_HOME"]).mkdir()
        table: dict[str, dict[str, str]] = {}
        for tool in tools:
            repeat = args.slow_repeat if tool in SLOW else args.repeat
            table[tool] = {w: measure(tool, w, repeat, env, tmp) for w in WORKLOADS}
            print(f"  measured {tool}: {table[tool]}", file=sys.stderr, flush=True)
    if args.flowrun is not None:
        figures = json.loads(args.flowrun.read_text())
        table = {"flowrun": {w: f"{figures[w]:.3f}" for w in WORKLOADS}, **table}
    print_tables(table, args.floor)
    return 0


def print_tables(table: dict[str, dict[str, str]], floor: float | None) -> None:
    """Seconds per cold run; then, when the floor is known, seconds over the floor and the
    ratio of each tool's overhead to PocketFlow's (the bar issue 19 sets at 1.25)."""
    print()
    print(f"median seconds, cold process per run (floor python -c pass: {floor or 0:.3f} s)")
    print(f"{'tool':11}" + "".join(f"{w:>12}" for w in WORKLOADS))
    for tool, row in table.items():
        print(f"{tool:11}" + "".join(f"{row[w]:>12}" for w in WORKLOADS))
    if floor is None or "pocketflow" not in table:
        return
    print()
    print("seconds over the floor (and × PocketFlow's overhead)")
    print(f"{'tool':11}" + "".join(f"{w:>16}" for w in WORKLOADS))
    bar = {w: _over(table["pocketflow"][w], floor) for w in WORKLOADS}
    for tool, row in table.items():
        cells = []
        for w in WORKLOADS:
            over, base = _over(row[w], floor), bar[w]
            if over is None:
                cells.append(f"{row[w][:15]:>16}")
            elif base:
                cells.append(f"{over:+.3f} ({over / base:4.2f}×)".rjust(16))
            else:
                cells.append(f"{over:+.3f}".rjust(16))
        print(f"{tool:11}" + "".join(cells))


def _over(cell: str, floor: float) -> float | None:
    try:
        return float(cell) - floor
    except ValueError:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
