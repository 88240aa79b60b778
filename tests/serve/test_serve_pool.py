"""The warm pool: real children, forked by the zygote or started as interpreters."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from flowrun.runs.launch import LaunchSpec
from flowrun.serve.pool import WarmPool
from flowrun.serve.zygote import Zygote

RESOLVED = {
    "workflow": {
        "id": "w",
        "name": None,
        "file": "/nowhere/w.workflow.yml",
        "env": {},
        "secrets": ["POOL_SECRET"],
        "outputs": {"where": "${{ nodes.a.output }}"},
        "stages": [
            {
                "id": None,
                "mode": "parallel",
                "on_failure": None,
                "loop": None,
                "nodes": [
                    {
                        "id": "a",
                        "type": "shell",
                        "name": None,
                        "needs": [],
                        "when": None,
                        "with": {"run": 'printf "%s %s" "$FLOWRUN_EXECUTION_ID" "$POOL_SECRET"'},
                        "timeout": 30.0,
                        "retry": {"attempts": 1, "backoff": 1.0, "factor": 2.0, "max_delay": 30.0},
                        "on_failure": "stop",
                        "has_pin": False,
                        "pin": None,
                    }
                ],
            }
        ],
    },
    "inputs": {},
    "trigger": {},
    "options": {"max_parallel": 4, "timeout": 30.0, "given_outputs": {}, "cwd": "/"},
}


def _run(pool: WarmPool, tmp_path: Path, execution_id: str) -> tuple[dict[str, object], int]:
    """Run one execution in a taken child by hand: header, workflow, events on fd 3."""
    child = pool.take()
    spec = LaunchSpec(
        sys.executable,
        RESOLVED,
        execution_id,
        "w",
        str(tmp_path),
        secrets={"POOL_SECRET": "pool-secret-value-123"},
    )
    pid = child.popen.pid
    early = child.prespawned(spec)
    assert early.engine.popen.stdin is not None
    early.engine.popen.stdin.write(json.dumps(RESOLVED).encode())
    early.engine.popen.stdin.close()
    with os.fdopen(early.engine.read_fd, "rb") as events:
        lines = [json.loads(line) for line in events.read().splitlines()]
    early.engine.popen.wait(30)
    finished = next(e for e in lines if e["event"] == "execution_finished")
    return finished, pid


def _refilled(pool: WarmPool, size: int) -> bool:
    deadline = time.monotonic() + 30
    while pool.ready < size and time.monotonic() < deadline:
        time.sleep(0.05)
    return pool.ready == size


@pytest.mark.parametrize("fork", [True, False])
def test_each_execution_gets_a_fresh_child_in_its_own_group(tmp_path: Path, fork: bool) -> None:
    pool = WarmPool(sys.executable, 2, fork=fork)
    try:
        pool.fill()
        assert pool.ready == 2
        first, first_pid = _run(pool, tmp_path, "e1")
        second, second_pid = _run(pool, tmp_path, "e2")
        assert first["status"] == "succeeded"
        assert first["outputs"] == {"where": {"exit_code": 0, "stdout": "e1 ***", "stderr": ""}}
        assert second["outputs"]["where"]["stdout"] == "e2 ***"  # type: ignore[index]
        assert first_pid != second_pid
        assert _refilled(pool, 2)  # behind each take
        for child in list(pool._ready):
            assert os.getpgid(child.popen.pid) == child.popen.pid  # its own group
    finally:
        pool.close()


def test_a_dead_zygote_is_replaced(tmp_path: Path) -> None:
    pool = WarmPool(sys.executable, 1, fork=True)
    try:
        pool.fill()
        zygote = pool._zygote
        assert zygote is not None
        os.kill(zygote.process.pid, signal.SIGKILL)
        zygote.process.wait(10)
        deadline = time.monotonic() + 10
        while pool._ready and pool._ready[0].alive() and time.monotonic() < deadline:
            time.sleep(0.05)  # its child dies with it (parent-death signal)
        finished, _pid = _run(pool, tmp_path, "e3")
        assert finished["status"] == "succeeded"
        assert pool._zygote is not None and pool._zygote is not zygote
    finally:
        pool.close()


def test_a_retired_zygote_lets_its_running_child_finish_then_exits() -> None:
    """A failed fork retires the fork server: closing it at once would end the executions
    of its children with it (parent-death signal)."""
    zygote = Zygote(sys.executable)
    child, events = zygote.fork(timeout=60)
    try:
        zygote.retire()
        time.sleep(0.2)
        assert zygote.alive() and child.poll() is None  # the child still waits for its header
        assert child.stdin is not None
        child.stdin.write(b"null\n")  # no execution: it exits 0
        child.stdin.flush()
        assert child.wait(30) == 0
        assert zygote.process.wait(30) is not None  # its last child ended: it closed
    finally:
        os.close(events)
        zygote.close()
