"""Nothing a workflow starts outlives its node or its run: eight ways to escape × five ends.

Each escaping process writes its own pid to a file, then execs `sleep 300`. After the end,
every such pid must be gone from /proc: not running and not left a zombie. One workflow holds
the eight escape styles as eight parallel nodes, so each end is one real engine run.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Child, EngineRun, child_env, node, workflow

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")


def _escaper(pid_file: Path) -> str:
    """A command that records its pid and becomes `sleep 300`."""
    return f"sh -c 'echo $$ > {pid_file}; exec sleep 300'"


SHELL_STYLES = {
    "setsid": "setsid {esc} &",
    "nohup": "nohup {esc} >/dev/null 2>&1 &",
    "subshell": "({esc} &)",
    "background": "{esc} &",
    "shell_grandchild": 'sh -c "{esc} & wait" &',
}
PYTHON_STYLES = {
    "new_session": "subprocess.Popen(ESC, shell=True, start_new_session=True)",
    "python_child": "subprocess.Popen(ESC, shell=True)",
    "double_fork": (
        "if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        "            os.execvp('sh', ['sh', '-c', ESC])\n"
        "        os._exit(0)"
    ),
}
STYLES = [*SHELL_STYLES, *PYTHON_STYLES]
CONTINUE = {"on_failure": "continue"}  # one node's timeout does not stop the others


def _nodes(tmp: Path, then_wait: bool, timeout: float = 60.0) -> list[dict[str, Any]]:
    nodes = []
    for style, template in SHELL_STYLES.items():
        run = template.format(esc=_escaper(tmp / style))
        # Return only once the escaped process has written its pid: on a loaded machine the
        # node could otherwise end (and take it along) before it ever ran.
        run += "\nsleep 300" if then_wait else f"\nuntil [ -s {tmp / style} ]; do sleep 0.02; done"
        nodes.append(node(style, "shell", with_={"run": run}, timeout=timeout, **CONTINUE))
    for style, statement in PYTHON_STYLES.items():
        code = (
            "import os, subprocess, time\n"
            f"ESC = {_escaper(tmp / style)!r}\n"
            f"def main():\n    {statement}\n"
            + (
                "    time.sleep(300)\n"
                if then_wait
                else f"    pid_file = {str(tmp / style)!r}\n"
                "    while not (os.path.exists(pid_file) and os.path.getsize(pid_file)):\n"
                "        time.sleep(0.02)\n"
                "    return 'started'\n"
            )
        )
        nodes.append(node(style, "python", with_={"code": code}, timeout=timeout, **CONTINUE))
    return nodes


def _escaped_pids(tmp: Path, timeout: float = 60.0) -> dict[str, int]:
    """Wait until every style has written its pid."""
    deadline = time.monotonic() + timeout
    while True:
        texts = {s: (tmp / s).read_text().strip() if (tmp / s).exists() else "" for s in STYLES}
        if all(texts.values()):
            return {s: int(t) for s, t in texts.items()}
        if time.monotonic() > deadline:
            raise AssertionError(f"not every style started: {texts}")
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}")


def _survivors(pids: dict[str, int], timeout: float = 10.0) -> dict[str, int]:
    """The styles whose escaped process still exists (running or a zombie) after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        left = {s: p for s, p in pids.items() if not _gone(p)}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def _finish(child: Child) -> EngineRun:
    run = child.finish()
    assert run.returncode == 0, run.stderr
    return run


@pytest.fixture
def cleanup() -> Iterator[list[int]]:
    pids: list[int] = []
    yield pids
    for pid in pids:  # a failing test must not leave sleeps behind
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def test_normal_end(tmp_path: Path, cleanup: list[int]) -> None:
    child = Child.start(workflow(*_nodes(tmp_path, then_wait=False)))
    run = _finish(child)  # does not wait for the sleeps (the test would time out)
    pids = _escaped_pids(tmp_path, timeout=1)
    cleanup.extend(pids.values())
    assert run.status == "succeeded", run.finished
    assert _survivors(pids) == {}
    logs = {s: run.logs(s) for s in STYLES}
    assert all(any("the node left running" in line for line in logs[s]) for s in STYLES), logs


def test_node_timeout(tmp_path: Path, cleanup: list[int]) -> None:
    child = Child.start(workflow(*_nodes(tmp_path, then_wait=True, timeout=4.0)))
    pids = _escaped_pids(tmp_path)
    cleanup.extend(pids.values())
    run = _finish(child)
    errors = {s: (run.of("node_finished", s)[0]["error"] or {}).get("type") for s in STYLES}
    assert set(errors.values()) == {"NodeTimeout"}, (errors, run.raw)
    assert _survivors(pids) == {}


def test_run_timeout(tmp_path: Path, cleanup: list[int]) -> None:
    child = Child.start(workflow(*_nodes(tmp_path, then_wait=True), timeout=5.0))
    pids = _escaped_pids(tmp_path)
    cleanup.extend(pids.values())
    run = _finish(child)
    assert run.status == "timed_out"
    assert _survivors(pids) == {}


def test_sigterm_of_the_engine(tmp_path: Path, cleanup: list[int]) -> None:
    child = Child.start(workflow(*_nodes(tmp_path, then_wait=True)))
    pids = _escaped_pids(tmp_path)
    cleanup.extend(pids.values())
    os.kill(child.proc.pid, signal.SIGTERM)  # the engine alone, not its group
    run = _finish(child)
    assert run.status == "stopped"
    assert _survivors(pids) == {}


_PARENT = """
import subprocess, sys
resolved, events, env = sys.argv[1], sys.argv[2], None
engine = subprocess.Popen(
    ["bash", "-c", f'exec "$0" -m flowrun_engine 3>>{events}', sys.executable],
    stdin=open(resolved, "rb"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
print(engine.pid, flush=True)
engine.wait()
"""


def test_sigkill_of_the_engines_parent(tmp_path: Path, cleanup: list[int]) -> None:
    """The engine asks for SIGTERM when its parent dies (PR_SET_PDEATHSIG) and cleans up."""
    resolved = tmp_path / "resolved.json"
    resolved.write_text(json.dumps(workflow(*_nodes(tmp_path, then_wait=True))))
    events = tmp_path / "events.jsonl"
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_PARENT), str(resolved), str(events)],
        stdout=subprocess.PIPE,
        env=child_env(None),
        start_new_session=True,
    )
    assert parent.stdout is not None
    engine = int(parent.stdout.readline())
    pids = _escaped_pids(tmp_path)
    cleanup.extend([*pids.values(), engine])
    parent.kill()
    parent.wait()
    assert _survivors(pids) == {}
    assert _survivors({"engine": engine}) == {}
    finished = [json.loads(line) for line in events.read_text().splitlines()][-1]
    assert finished["event"] == "execution_finished" and finished["status"] == "stopped"
