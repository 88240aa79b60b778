"""`containment.end_execution` and the cgroup per execution, on real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowrun.runs import cgroup, containment
from flowrun.runs.launch import new_execution_id
from flowrun.runs.process_groups import pid_alive


def wait_gone(pids: list[int], seconds: float = 10.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(pid_alive(pid) for pid in pids):
        time.sleep(0.05)
    return [pid for pid in pids if pid_alive(pid)]


def detached_sleep(execution_id: str | None, *, ignore_term: bool = False) -> int:
    """A `sleep` in a new session whose parent has exited (re-parented away from us)."""
    env = dict(os.environ)
    if execution_id is not None:
        env["FLOWRUN_EXECUTION_ID"] = execution_id
    trap = "trap '' TERM; " if ignore_term else ""
    shell = subprocess.run(
        ["setsid", "sh", "-c", f"{trap}sleep 300 > /dev/null 2>&1 & echo $!"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(shell.stdout)


def test_the_cookie_finds_a_detached_process_and_only_that_execution() -> None:
    mine, other = new_execution_id(), new_execution_id()
    pids = [detached_sleep(mine), detached_sleep(mine, ignore_term=True)]
    bystander = detached_sleep(other)
    try:
        assert set(pids) <= containment.execution_pids(containment.Scope(mine))
        ended = containment.end_execution(containment.Scope(mine), grace=0.5)
        assert set(pids) <= set(ended)
        assert wait_gone(pids) == []
        assert pid_alive(bystander)
    finally:
        containment.end_execution(containment.Scope(other), grace=0)
    assert wait_gone([bystander]) == []


@pytest.mark.skipif(cgroup.base() is None, reason="no writable cgroup v2 here")
def test_a_cgroup_holds_what_leaves_the_session_and_the_environment() -> None:
    execution_id = new_execution_id()
    box = cgroup.create(execution_id)
    assert box is not None and box.is_dir()
    # env -i: no cookie; setsid: no group; the shell exits: no parent
    leader = subprocess.Popen(
        ["sh", "-c", "read _; env -i setsid sh -c 'sleep 300 & echo $!' "],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert cgroup.join(box, leader.pid)
    assert leader.stdin is not None and leader.stdout is not None
    leader.stdin.write("go\n")
    leader.stdin.flush()
    orphan = int(leader.stdout.readline())
    leader.wait()
    assert orphan in cgroup.pids(box)
    assert orphan not in containment.execution_pids(containment.Scope(execution_id))
    containment.end_execution(containment.Scope(execution_id, cgroup=box), grace=0.2)
    assert wait_gone([orphan]) == []
    assert not box.exists()


@pytest.mark.skipif(cgroup.base() is None, reason="no writable cgroup v2 here")
def test_the_cgroups_of_a_killed_supervisor_are_ended_by_the_next() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    base = cgroup.base()
    assert base is not None
    stale = base / f"{cgroup.PREFIX}{gone.pid}-{new_execution_id()}"
    stale.mkdir()
    sleeper = subprocess.Popen(["sleep", "300"])
    assert cgroup.join(stale, sleeper.pid)
    assert stale in cgroup.remove_stale()
    sleeper.wait(10)
    assert not stale.exists()


def test_no_cgroup_is_harmless(tmp_path: Path) -> None:
    assert cgroup.pids(tmp_path / "missing") == []
    cgroup.kill(tmp_path / "missing")  # nothing to end, nothing raised


def _session(code: str) -> subprocess.Popen[bytes]:
    """A python in its own session that prints "ready" once `code` ran, then sleeps."""
    script = f"{code}\nprint('ready', flush=True)\nimport time\ntime.sleep(300)"
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, start_new_session=True
    )
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"
    return child


def test_cut_short_says_alone_for_an_engine_without_children_and_kills_it() -> None:
    engine = _session("pass")
    scope = containment.Scope(new_execution_id(), engine.pid, engine.pid)
    assert containment.cut_short(scope) is True
    assert engine.wait(10) == -9


def test_cut_short_is_not_alone_while_a_child_lives_and_end_execution_ends_it() -> None:
    engine = _session("import subprocess; c = subprocess.Popen(['sleep', '300'])")
    scope = containment.Scope(new_execution_id(), engine.pid, engine.pid)
    grandchild = [int(p) for p in Path(f"/proc/{engine.pid}/task/{engine.pid}/children")
                  .read_text().split()]  # fmt: skip
    assert containment.cut_short(scope) is False
    assert engine.wait(10) == -9
    containment.end_execution(scope, grace=0)
    assert wait_gone(grandchild) == []
