"""Cold `flowrun run` of four workloads, against the floor `python -c pass` of this run.

    .venv/bin/python benchmarks/run.py [--repeat 7] [--peers]

W1 one transform node; W2 100 independent transform nodes plus a join; W3 eight parallel
`python` nodes that each `time.sleep(0.5)` (each python node is a process of its own); W4 20
chained `shell` nodes running `true`. Each figure is the median wall time of `--repeat`
cold runs (`flowrun run FILE --json`, a fresh process each time); "over floor"
is the median of (run - the `python -c pass` run just before it), measured in this run.
"cpu s" is the CPU time (user + sys) of the run's whole process tree over the floor's, a
figure the machine's load hardly moves. The engine's peak RSS for W2 is the child's
ru_maxrss (os.wait4), spawned exactly as the supervisor spawns it.
`--peers` also runs benchmarks/peers/run.py (needs `bash benchmarks/peers/setup.sh`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# the `flowrun` console script users run (python -m flowrun adds runpy's import)
_SCRIPT = Path(PYTHON).parent / "flowrun"
FLOWRUN = [str(_SCRIPT)] if _SCRIPT.exists() else [PYTHON, "-m", "flowrun"]
BUDGETS = {"W1": 0.25, "W2": 0.45, "W3": 0.65, "W4": 0.35}
RSS_BUDGET_MB = 60.0


def workloads() -> dict[str, str]:
    w2_nodes = "".join(
        f"  - {{id: n{i}, type: transform, with: {{value: {i}}}}}\n" for i in range(100)
    )
    w2_join = (
        "  - id: join\n    type: transform\n"
        f"    needs: [{', '.join(f'n{i}' for i in range(100))}]\n"
        "    with: {value: '${{ nodes.n0.output + nodes.n99.output }}'}\n"
    )
    w3_nodes = "".join(
        f"  - id: s{i}\n    type: python\n    with:\n      code: |\n"
        "        import time\n        def main():\n            time.sleep(0.5)\n"
        "            return 1\n"
        for i in range(8)
    )
    w4_nodes = "".join(
        f"  - id: c{i}\n    type: shell\n"
        + (f"    needs: [c{i - 1}]\n" if i else "")
        + "    with: {run: 'true'}\n"
        for i in range(20)
    )
    head = "version: 1\nnodes:\n"
    return {
        "W1": head + "  - {id: one, type: transform, with: {value: 1}}\n",
        "W2": head + w2_nodes + w2_join,
        "W3": head + w3_nodes,
        "W4": head + w4_nodes,
    }


# An editable install has no precompiled .pyc files (pip compiles a wheel's at install
# time, as it did for the peers): let the warm-up run write them, whatever the shell says.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, env=env or ENV)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr.decode()[-2000:]}")
    return elapsed


def cpu_of(argv: list[str], cwd: Path) -> float:
    """CPU seconds (user + sys) of the run's whole process tree: unlike wall time, this
    hardly moves with the load of a shared machine."""
    before = children_cpu()
    timed(argv, cwd)
    return children_cpu() - before


def paired(argv: list[str], floor: list[str], cwd: Path, repeat: int) -> tuple[float, float]:
    """(median seconds, median of (run - floor)) with each run right after a floor run, so
    that the load of a shared machine shifts both sides of each difference alike."""
    timed(argv, cwd)  # warm the page cache, .pyc files and Flowrun's caches
    runs, overs = [], []
    for _ in range(repeat):
        base = timed(floor, cwd)
        seconds = timed(argv, cwd)
        runs.append(seconds)
        overs.append(seconds - base)
    return statistics.median(runs), statistics.median(overs)


def engine_peak_rss_mb(path: Path) -> float:
    """Spawn the engine as the supervisor does and read its ru_maxrss."""
    from flowrun.runs import launch
    from flowrun.spec.resolve import resolve
    from flowrun.validate import validate_file

    checked = validate_file(path)
    resolved = resolve(checked.workflow, path)  # type: ignore[arg-type]
    engine = launch.engine_location()
    scratch = launch.make_scratch(engine)
    spec = launch.LaunchSpec(PYTHON, resolved, "bench", "bench", str(path.parent))
    read_fd, write_fd = os.pipe()
    try:
        process = subprocess.Popen(
            launch.engine_argv(PYTHON, write_fd, engine.module),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            pass_fds=(write_fd,),
            env=launch.child_environment(spec, scratch),
            cwd=path.parent,
        )
        os.close(write_fd)
        assert process.stdin is not None
        process.stdin.write(json.dumps(resolved).encode())
        process.stdin.close()
        with os.fdopen(read_fd, "rb") as events:
            events.read()
        _, _, usage = os.wait4(process.pid, 0)
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    return usage.ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--peers", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowrun-bench-") as tmp:
        folder = Path(tmp)
        (folder / ".flowrun").mkdir()
        floor_argv = [PYTHON, "-c", "pass"]
        floor = statistics.median(timed(floor_argv, folder) for _ in range(args.repeat))
        print(f"floor `python -c pass`: {floor:.3f} s (median of {args.repeat})")
        floor_cpu = statistics.median(cpu_of(floor_argv, folder) for _ in range(3))
        print(f"{'workload':8} {'median s':>9} {'over floor':>11} {'budget':>7}  ok  {'cpu s':>6}")
        failed = False
        figures: dict[str, float] = {}
        for name, text in workloads().items():
            path = folder / f"{name.lower()}.workflow.yml"
            path.write_text(text)
            argv = [*FLOWRUN, "run", str(path), "--json", "--python", PYTHON]
            seconds, over = paired(argv, floor_argv, folder, args.repeat)
            figures[name] = seconds
            ok = over < BUDGETS[name]
            failed |= not ok
            mark = "yes" if ok else "NO "
            cpu = statistics.median(cpu_of(argv, folder) for _ in range(3)) - floor_cpu
            print(f"{name:8} {seconds:9.3f} {over:11.3f} {BUDGETS[name]:7.2f}  {mark} {cpu:6.3f}")
        first = [*FLOWRUN, "run", str(folder / "w1.workflow.yml"), "--json"]
        first += ["--python", PYTHON]
        uncached = dict(ENV, FLOWRUN_NO_CACHE="1")
        start = time.perf_counter()
        subprocess.run(first, cwd=folder, capture_output=True, env=uncached, check=True)
        print(f"W1 without the resolved-file cache (a file's first run): "
              f"{time.perf_counter() - start:.3f} s")  # fmt: skip
        rss = engine_peak_rss_mb(folder / "w2.workflow.yml")
        rss_ok = rss < RSS_BUDGET_MB
        failed |= not rss_ok
        print(f"engine peak RSS, W2: {rss:.1f} MB (budget {RSS_BUDGET_MB:.0f} MB)")
        (folder / "flowrun.json").write_text(json.dumps(figures))
        if args.peers:
            peers = Path(__file__).parent / "peers"
            peer_python = peers / ".venv" / "bin" / "python"
            if not peer_python.exists():
                print("benchmarks/peers/.venv missing: run `bash benchmarks/peers/setup.sh`")
            else:
                subprocess.run(
                    [str(peer_python), str(peers / "run.py"), "--repeat", str(args.repeat),
                     "--flowrun", str(folder / "flowrun.json"), "--floor", f"{floor:.4f}"],
                    check=False,
                )  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
