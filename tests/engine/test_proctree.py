"""flowrun_engine.proctree with real processes, checked by pid in /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flowrun_engine import proctree

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")

SERVER_DIR = Path(__file__).resolve().parents[2] / "server"


def _wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def _read_pids(path: Path, count: int) -> list[int]:
    _wait_for(lambda: path.exists() and len(path.read_text().split()) >= count)
    return [int(p) for p in path.read_text().split()]


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        proctree.kill_tree([proc.pid], grace=0)
        proc.wait()


def test_children_and_descendants(tmp_path: Path, spawned: list[subprocess.Popen[bytes]]) -> None:
    inner, outer = tmp_path / "inner", tmp_path / "outer"
    script = f"sh -c 'sleep 30 & echo $! > {inner}; wait' & sleep 30 & echo $! > {outer}; wait"
    proc = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    spawned.append(proc)
    (grandchild,), (child_sleep,) = _read_pids(inner, 1), _read_pids(outer, 1)
    children = proctree.children_of(proc.pid)
    assert child_sleep in children and grandchild not in children
    descendants = proctree.descendants_of(proc.pid)
    assert {grandchild, child_sleep} <= set(descendants)
    assert len(descendants) == 3  # the inner sh too
    assert proctree.parent_of(child_sleep) == proc.pid


def test_pids_with_env_finds_a_detached_process(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    token = uuid.uuid4().hex
    env = {**os.environ, "FLOWRUN_NODE_TOKEN": token}
    proc = subprocess.Popen(["sleep", "30"], env=env, start_new_session=True)
    other = subprocess.Popen(["sleep", "30"], start_new_session=True)
    spawned.extend([proc, other])
    assert proctree.pids_with_env("FLOWRUN_NODE_TOKEN", token) == [proc.pid]
    assert proctree.pids_with_env("FLOWRUN_NODE_TOKEN", token + "x") == []
    proc.kill()
    _wait_for(lambda: not proctree.is_alive(proc.pid))
    assert proctree.pids_with_env("FLOWRUN_NODE_TOKEN", token) == []  # a zombie is skipped


def test_kill_tree_terminates_then_kills(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    polite = subprocess.Popen(["sleep", "30"])
    stubborn = subprocess.Popen(["sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"])
    spawned.extend([polite, stubborn])
    time.sleep(0.2)  # let the shell install its trap
    survivors = proctree.kill_tree([polite.pid, stubborn.pid], grace=0.5)
    assert stubborn.pid in survivors
    assert polite.pid not in survivors
    for pid in (polite.pid, stubborn.pid):
        assert not proctree.is_alive(pid)
        assert not os.path.exists(f"/proc/{pid}")  # reaped: ours, and not left a zombie


def test_kill_tree_reaches_the_group_and_the_descendants(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    pids = tmp_path / "pids"
    script = f"sleep 30 & echo $! >> {pids}; setsid sleep 30 & echo $! >> {pids}; wait"
    leader = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    spawned.append(leader)
    in_group, own_session = _read_pids(pids, 2)
    proctree.kill_tree([leader.pid], grace=1.0)
    for pid in (leader.pid, in_group, own_session):
        assert not proctree.is_alive(pid), pid


def test_kill_tree_rescan_catches_late_processes(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    token = uuid.uuid4().hex
    env = {**os.environ, "COOKIE": token}
    late = subprocess.Popen(["sleep", "30"], env=env, start_new_session=True)
    spawned.append(late)
    proctree.kill_tree([], grace=0.2, rescan=lambda: proctree.pids_with_env("COOKIE", token))
    assert not proctree.is_alive(late.pid)


def test_kill_tree_never_signals_us_or_our_group() -> None:
    assert proctree.kill_tree([os.getpid(), os.getpgrp(), os.getppid()], grace=0.1) == []


def test_kill_tree_leaves_waited_children_unreaped() -> None:
    proc = subprocess.Popen(["sleep", "30"])
    proctree.kill_tree([], grace=0.1, rescan=lambda: [proc.pid], keep_unreaped=[proc.pid])
    assert proctree.is_zombie(proc.pid)
    assert proc.wait() == -signal.SIGTERM


_SUBREAPER = """
import os, subprocess, sys, time
from flowrun_engine import proctree
assert proctree.become_subreaper()
out = sys.argv[1]
subprocess.run(["sh", "-c", f"setsid sleep 30 & echo $! > {out}; (sleep 30 &)"], check=True)
while not os.path.exists(out) or not open(out).read().strip():
    time.sleep(0.02)
orphan = int(open(out).read())
time.sleep(0.2)
mine = proctree.children_of(os.getpid())
assert orphan in mine, (orphan, mine)
assert len(mine) == 2, mine
proctree.kill_tree(mine, grace=1.0)
assert proctree.children_of(os.getpid()) == [], proctree.children_of(os.getpid())
print("ok")
"""


def test_subreaper_adopts_detached_descendants_and_reaps_them(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SERVER_DIR)}
    out = tmp_path / "orphan"
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_SUBREAPER), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert not proctree.is_alive(int(out.read_text()))


_ORPHANS = """
import os, subprocess, time
from flowrun_engine import proctree
proctree.become_subreaper()
subprocess.run(["sh", "-c", "(true &)"], check=True)
time.sleep(0.3)
kept = subprocess.Popen(["true"])
time.sleep(0.3)
reaped = proctree.reap_orphans(keep=[kept.pid])
assert kept.pid not in reaped and len(reaped) == 1, reaped
assert proctree.children_of(os.getpid()) == [kept.pid]
assert kept.wait() == 0
print("ok")
"""


def test_reap_orphans_spares_the_processes_others_wait_for() -> None:
    env = {**os.environ, "PYTHONPATH": str(SERVER_DIR)}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_ORPHANS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
