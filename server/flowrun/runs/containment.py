"""End every process of an execution: the one way Flowrun ends processes, one grace policy.

An execution's processes are the union of
* its cgroup (`flowrun.runs.cgroup`, where the system allows one): nothing leaves it;
* the engine's process tree (`descendants_of`), which the engine's and this supervisor's
  child-subreaper status keep together however a node's process detaches;
* the engine's process group, when it is known to be ours;
* every process whose environment carries the cookie `FLOWRUN_EXECUTION_ID=<id>` (every
  engine process tree inherits it), which finds a detached process even after its parent
  died and it went to pid 1.

The policy: SIGTERM them all, SIGKILL what is left after `grace` seconds (the service's
grace, 3 s). Once the engine itself has exited, what it left gets `grace=0` (SIGKILL at
once): the engine had its chance to stop its nodes, and the run's result must not wait.

On the early path of `flowrun run`: stdlib only, nothing heavy.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import NamedTuple

from flowrun.runs import cgroup
from flowrun_engine import proctree

COOKIE = "FLOWRUN_EXECUTION_ID"
GRACE = 3.0
STOP_CHECKS = 40  # how often `cut_short` looks whether the engine is stopped yet

# A program that supervises engines (`flowrun run`, `flowrun lsp`) is their subreaper. A host
# that only embeds the running side (the test suite) may switch this off: orphans would come
# back to it, and it would have to reap them.
SUBREAPER = True
_subreaper: bool | None = None


class Scope(NamedTuple):
    """What belongs to one execution; the fields not known are None."""

    execution_id: str
    pid: int | None = None  # the engine
    pgid: int | None = None  # its process group, only when it cannot be somebody else's
    cgroup: Path | None = None


def become_subreaper() -> bool:
    """Once per process: orphaned descendants of our engines come back to us, not to pid 1."""
    global _subreaper
    if _subreaper is None and SUBREAPER:
        _subreaper = proctree.become_subreaper()
    return bool(_subreaper)


def execution_pids(scope: Scope) -> set[int]:
    """The live processes of the execution. A cgroup, while it exists, is the closed box:
    nothing in it leaves, so the scans of /proc (group, cookie) are skipped."""
    found: set[int] = set()
    if scope.pid is not None:  # also before it is in its cgroup (it joins as it boots)
        found.update(proctree.descendants_of(scope.pid))
        if proctree.is_alive(scope.pid):
            found.add(scope.pid)
    if scope.cgroup is not None and scope.cgroup.is_dir():
        found.update(cgroup.pids(scope.cgroup))
    else:
        found.update(proctree.pids_with_env(COOKIE, scope.execution_id))
        if scope.pgid is not None:
            found.update(group_members(scope.pgid))
    found.discard(os.getpid())
    return found


def end_execution(scope: Scope, *, grace: float = GRACE) -> list[int]:
    """SIGTERM every process of the execution, SIGKILL what is left after `grace` (and what
    was started meanwhile); remove its cgroup. Blocks up to `grace` seconds (plus the
    SIGKILL's effect). Returns the pids found at first."""
    from flowrun.runs import process_groups

    pids = sorted(execution_pids(scope))
    if pids:
        proctree.kill_tree(
            pids,
            grace=grace,
            rescan=lambda: execution_pids(scope),
            keep_unreaped=process_groups.live_pids(),  # engines: their `Popen` collects them
        )
    if scope.cgroup is not None:
        cgroup.kill(scope.cgroup)
    reap_orphans()
    return pids


def cut_short(scope: Scope) -> bool:
    """SIGKILL the engine's group now, without waiting: its run is over (it wrote
    `execution_finished`) and its teardown would only delay the result.

    True when the engine was all that lived of the execution: stopped (SIGSTOP, so that it
    starts nothing more), it had no child. It is a subreaper, so every live process of its
    execution is one of its descendants: `end_execution` (its scans of /proc) has nothing
    to find then. False: run `end_execution` with grace 0 for everything else."""
    alone = scope.cgroup is None and scope.pid is not None and _stopped_alone(scope.pid)
    for kill, target in ((os.killpg, scope.pgid), (os.kill, scope.pid)):
        if target is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(target, signal.SIGKILL)
    return alone


def _stopped_alone(pid: int) -> bool:
    """Stop `pid`; True once it is stopped and has no child (a zombie child counts)."""
    try:
        os.kill(pid, signal.SIGSTOP)
    except (ProcessLookupError, PermissionError):
        return False
    for _ in range(STOP_CHECKS):  # the signal is delivered at once; its effect shows soon
        if proctree.state_of(pid) in ("T", "t"):
            return not proctree.children_of(pid)
        time.sleep(0.0005)
    return False


def group_members(pgid: int) -> list[int]:
    return [pid for pid in _all_pids() if proctree.group_of(pid) == pgid and proctree.is_alive(pid)]


def reap_orphans() -> list[int]:
    """Collect our zombie children from other sessions: descendants of engines that came
    back to us as subreaper and ended. Our own subprocesses (same session: asyncio waits for
    them) and live engines (their `Popen` does) are left alone."""
    from flowrun.runs import process_groups

    keep = process_groups.live_pids() | proctree.WAITED_FOR
    own_session = os.getsid(0)
    reaped = []
    for pid in proctree.children_of(os.getpid()):
        if pid in keep or not proctree.is_zombie(pid) or _session(pid) == own_session:
            continue
        if proctree.reap(pid):
            reaped.append(pid)
    return reaped


def _session(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        return os.getsid(pid)
    return None


def _all_pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []
