"""This checkout against an earlier commit on W1-W4 (benchmarks/run.py's workloads): did a
change make cold `flowrun run` slower?

    .venv/bin/python benchmarks/regression.py --base REV [--repeat 9]

REV is checked out into a temporary git worktree and run from this same interpreter with
PYTHONPATH pointing at its `server/` (so both sides share every installed dependency). The
two sides alternate run by run, each right after a floor run (`python -c pass`), so the
load of a shared machine shifts both alike. Printed per workload: seconds over the floor
(median) and the CPU seconds of the run's whole process tree over the floor's (median; load
hardly moves it), for the base and for HEAD, and HEAD / base.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from run import FLOWRUN, PYTHON, ROOT, children_cpu, workloads


def checkout(rev: str, into: Path) -> Path:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(into), rev], check=True
    )
    return into / "server"


def measured(argv: list[str], cwd: Path, server: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process tree) of one run of `argv`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(server)
    cpu_before = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr.decode()[-2000:]}")
    return wall, children_cpu() - cpu_before


def run_argv(path: Path, side: str) -> list[str]:
    return [*FLOWRUN, "run", str(path), "--json", "--db", f"{path}.{side}.db"]


def over_floor(sides: dict[str, Path], path: Path, repeat: int) -> dict[str, tuple[float, float]]:
    """Per side: (median wall over the floor, median CPU over the floor)."""
    floor = [PYTHON, "-c", "pass"]
    walls: dict[str, list[float]] = {side: [] for side in sides}
    cpus: dict[str, list[float]] = {side: [] for side in sides}
    for side, server in sides.items():  # warm .pyc files and caches
        measured(run_argv(path, side), path.parent, server)
    for _ in range(repeat):
        for side, server in sides.items():
            base_wall, base_cpu = measured(floor, path.parent, server)
            wall, cpu = measured(run_argv(path, side), path.parent, server)
            walls[side].append(wall - base_wall)
            cpus[side].append(cpu - base_cpu)
    return {side: (statistics.median(walls[side]), statistics.median(cpus[side])) for side in sides}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        sides = {"base": checkout(args.base, folder / "base"), "head": ROOT / "server"}
        try:
            print(f"HEAD against {args.base}: over `python -c pass`, median of {args.repeat}")
            print("workload  base wall  head wall   ratio   base cpu  head cpu   ratio")
            for name, text in workloads().items():
                path = folder / f"{name}.workflow.yml"
                path.write_text(text)
                got = over_floor(sides, path, args.repeat)
                (bw, bc), (hw, hc) = got["base"], got["head"]
                print(
                    f"{name:8}  {bw:9.3f}  {hw:9.3f}  {hw / bw:6.2f}×  "
                    f"{bc:9.3f} {hc:9.3f}  {hc / bc:6.2f}×"
                )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder / "base")],
                check=False,
            )


if __name__ == "__main__":
    main()
