"""`flowrun batch` without `--queue`: each execution in a warm engine child forked by a fork
server (as a queue worker's), with the same results and environment as a cold child, and
nothing left running once the batch ends or is stopped. Real `flowrun` processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fleet import LONG_NAP, NAP, sleepers

# The engine's parent (the fork server, or the batch itself for a cold child): its command line.
WHO = """\
version: 1
id: who
inputs:
  n: {type: number}
nodes:
  - id: who
    type: shell
    with:
      run: >-
        echo "$N $FLOWRUN_EXECUTION_MODE $FLOWRUN_EXECUTION_ID";
        tr '\\0' ' ' < /proc/$(cut -d' ' -f4 /proc/$PPID/stat)/cmdline
      env: {N: "${{ inputs.n }}"}
outputs:
  out: ${{ nodes.who.output.stdout }}
"""
FORK_SERVER = "sock.recvmsg"  # a line of the fork server's code, in its command line


def batch(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flowrun", "batch", *args], cwd=folder, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def fork_servers_of(pid: int) -> list[int]:
    """The fork servers a process started (their command line ends with its pid)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if FORK_SERVER.encode() in b"".join(argv) and str(pid).encode() in argv[-3:]:
                found.append(int(entry.name))
    return found


def test_each_row_runs_in_a_forked_warm_child_with_its_own_identity(tmp_path: Path) -> None:
    (tmp_path / "who.workflow.yml").write_text(WHO)
    (tmp_path / "rows.jsonl").write_text("".join(f'{{"n": {i}}}\n' for i in range(6)))
    proc = batch(tmp_path, "who.workflow.yml", "--inputs", "rows.jsonl", "--max-concurrent", "2")
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["row"] for r in results] == list(range(6))
    for index, result in enumerate(results):
        first, _, parent = result["outputs"]["out"].partition("\n")
        assert first == f"{index} batch {result['execution_id']}"
        assert FORK_SERVER in parent, parent  # not `python -m flowrun batch`: no cold start
    assert fork_servers_of(proc.pid) == []


def test_ctrl_c_leaves_no_execution_nor_fork_server_behind(tmp_path: Path) -> None:
    (tmp_path / "nap.workflow.yml").write_text(NAP)
    (tmp_path / "rows.jsonl").write_text(f'{{"n": {LONG_NAP}}}\n' * 4)
    proc = batch(tmp_path, "nap.workflow.yml", "--inputs", "rows.jsonl", "--max-concurrent", "2")
    try:
        deadline = time.monotonic() + 120
        while len(sleepers()) < 2:
            assert time.monotonic() < deadline and proc.poll() is None, "no execution started"
            time.sleep(0.1)
        assert fork_servers_of(proc.pid), "the executions run in forked warm children"
        os.kill(proc.pid, signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert sleepers() == []
    assert fork_servers_of(proc.pid) == []
