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
from pathlib import Path
from typing import NamedTuple

from flowrun.runs import cgroup
from flowrun_engine import proctree

COOKIE = "FLOWRUN_EXECUTION_ID"
GRACE = 3.0

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
    if _subreaper is None:
        _subreaper = proctree.become_subreaper()
    return _subreaper


def execution_pids(scope: Scope) -> set[int]:
    found: set[int] = set(proctree.pids_with_env(COOKIE, scope.execution_id))
    if scope.cgroup is not None:
        found.update(cgroup.pids(scope.cgroup))
    if scope.pgid is not None:
        found.update(group_members(scope.pgid))
    if scope.pid is not None:
        found.update(proctree.descendants_of(scope.pid))
        if _alive(scope.pid):
            found.add(scope.pid)
    found.discard(os.getpid())
    return found


def end_execution(scope: Scope, *, grace: float = GRACE) -> list[int]:
    """SIGTERM every process of the execution, SIGKILL what is left after `grace`; remove
    its cgroup. Returns the pids that were signalled. Blocks up to `grace` seconds."""
    pids = execution_pids(scope)
    ended = proctree.kill_tree(sorted(pids), grace=grace) if pids else []
    late = execution_pids(scope) - set(ended)  # started while the others were stopping
    if late:
        ended += proctree.kill_tree(sorted(late), grace=0)
    if scope.cgroup is not None:
        cgroup.kill(scope.cgroup)
    reap_orphans()
    return ended


def group_members(pgid: int) -> list[int]:
    members = []
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if fields is not None and fields[2] == str(pgid) and fields[0] != "Z":
            members.append(pid)
    return members


def reap_orphans(keep: frozenset[int] = frozenset()) -> list[int]:
    """Collect our zombie children from other sessions (descendants of engines that came
    back to us as subreaper and ended): our own subprocesses (same session) and engines
    (`keep`, waited for by their owner) are left to whoever waits for them."""
    from flowrun.runs import process_groups

    keep = keep | process_groups.live_pids()
    own_session = os.getsid(0)
    reaped = []
    for pid in proctree.children_of(os.getpid()):
        fields = _stat_fields(pid)
        if fields is None or fields[0] != "Z" or pid in keep or fields[3] == str(own_session):
            continue
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
            reaped.append(pid)
    return reaped


def _alive(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def _stat_fields(pid: int) -> list[str] | None:
    """state, ppid, pgrp, session… of /proc/<pid>/stat (after the command name)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _all_pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []
