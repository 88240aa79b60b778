"""Re-run changed (issue 17): `flowrun run FILE --changed` after one leaf of a 50-node
workflow changed, against a full `flowrun run FILE` of the same file (the floor: what a
re-run costs without it).

    .venv/bin/python benchmarks/rerun_changed.py [--repeat 5] [--node-ms 200]

The workflow is 5 layers of 10 python nodes, each node using one node of the layer above;
each node sleeps `--node-ms` (a stand-in for an API or LLM call; 0 measures Flowrun's own
cost alone). Each round, both cold (a new `flowrun` process, its own engine child): change
the leaf `n4_9`, a full run; change it again, a `--changed` run (the full run is its base:
49 nodes given, the leaf runs). Wall time from the process start to its exit; medians over
rounds. A shared machine: the load average is printed before and after, read the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAYERS, WIDTH = 5, 10
LEAF = f"n{LAYERS - 1}_{WIDTH - 1}"


def workflow(node_ms: int, leaf_value: int) -> str:
    nodes = []
    for layer in range(LAYERS):
        for index in range(WIDTH):
            node_id = f"n{layer}_{index}"
            needs = f"\n    needs: [n{layer - 1}_{index}]" if layer else ""
            value = leaf_value if node_id == LEAF else index
            nodes.append(
                f"""  - id: {node_id}
    type: python{needs}
    with:
      args: {{v: {value}}}
      code: |
        import time
        def main(v):
            time.sleep({node_ms / 1000})
            return {{"v": v}}
"""
            )
    return "version: 1\nnodes:\n" + "".join(nodes)


def timed_run(path: Path, *extra: str) -> tuple[float, str]:
    begun = time.monotonic()
    command = [sys.executable, "-m", "flowrun", "run", str(path), "--quiet"]
    done = subprocess.run(
        [*command, "--python", sys.executable, *extra],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.monotonic() - begun
    if done.returncode != 0:
        raise SystemExit(f"flowrun run {' '.join(extra)} failed:\n{done.stderr}")
    return took, done.stderr


def main(repeat: int, node_ms: int) -> None:
    load_before = os.getloadavg()
    full_runs, changed_runs = [], []
    report = ""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / ".git").mkdir()  # the workspace: the history goes to its .flowrun/
        path = folder / "wide.workflow.yml"
        path.write_text(workflow(node_ms, 0))
        timed_run(path)  # warm: the validation cache, the interpreter's imports
        for round_ in range(repeat):
            path.write_text(workflow(node_ms, 2 * round_ + 1))
            full_runs.append(timed_run(path)[0])
            path.write_text(workflow(node_ms, 2 * round_ + 2))
            took, report = timed_run(path, "--changed")
            changed_runs.append(took)
    assert "reused 49" in report and f"running 1: {LEAF}" in report, report
    full = statistics.median(full_runs) * 1000
    changed = statistics.median(changed_runs) * 1000
    print(f"{LAYERS * WIDTH} python nodes ({LAYERS} layers of {WIDTH}), {node_ms} ms each,")
    print(f"one changed leaf, {repeat} cold runs each (medians, wall time of the process)")
    print(f"  full run (floor):       {full:8.1f} ms")
    print(f"  --changed (1 node ran): {changed:8.1f} ms")
    print(f"  --changed / full:       {changed / full:8.2f}x")
    after = os.getloadavg()
    print(f"  load average before {load_before[0]:.2f}, after {after[0]:.2f} (a shared machine)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--node-ms", type=int, default=200)
    args = parser.parse_args()
    main(args.repeat, args.node_ms)
