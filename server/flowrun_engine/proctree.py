"""Find and end every process a run started, however it detached (Linux `/proc`; stdlib only).

A process group does not hold what `setsid`, `nohup`, `(cmd &)` or a double fork starts. Two
things do: a *child subreaper* (`become_subreaper`), to which every orphaned descendant is
re-parented instead of pid 1, and a *cookie* in the environment (`pids_with_env`), which a
detached process keeps (Jenkins' ProcessTreeKiller). `kill_tree` ends a set of processes
with one grace policy: SIGTERM, up to `grace` seconds, then SIGKILL.

Where `/proc` or `prctl` is missing (not Linux) every function degrades to "nothing found" /
False; callers still kill the process groups they know.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Generator, Iterable

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
DEFAULT_GRACE = 3.0  # design §1: SIGTERM, then SIGKILL after this many seconds
_POLL = 0.02

# Our children whose exit status another waiter (asyncio's child watcher) collects: never
# reaped here, or that waiter would get ECHILD.
WAITED_FOR: set[int] = set()


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Orphaned descendants of this process are re-parented to it (not to pid 1)."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Receive `sig` when the parent (the thread that forked us) dies."""
    return _prctl(PR_SET_PDEATHSIG, int(sig))


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, session, ...]."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    return stat[stat.rfind(")") + 2 :].split()


def _all_pids() -> list[int]:
    try:
        return [int(e) for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return []


def parent_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields and len(fields) > 1 else None


def group_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[2]) if fields and len(fields) > 2 else None


def state_of(pid: int) -> str | None:
    """The state letter of `pid` (R, S, T, Z, ...), None when it is gone."""
    fields = _stat_fields(pid)
    return fields[0] if fields else None


def is_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a zombie no longer runs or holds anything)."""
    return state_of(pid) not in (None, "Z", "X", "x")


def is_zombie(pid: int) -> bool:
    return state_of(pid) == "Z"


def children_of(pid: int) -> list[int]:
    """Direct children of `pid` (every thread's `children` file, else a scan of the ppids)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for tid in tasks:
        text = _read(f"/proc/{pid}/task/{tid}/children")
        if text is None:
            return [p for p in _all_pids() if parent_of(p) == pid]
        found.extend(int(p) for p in text.split())
    return found


def descendants_of(pid: int) -> list[int]:
    """Children, grandchildren, ... of `pid`, parents before their children."""
    found: list[int] = []
    seen = {pid}
    todo = [pid]
    while todo:
        for child in children_of(todo.pop(0)):
            if child not in seen:
                seen.add(child)
                found.append(child)
                todo.append(child)
    return found


def has_env(pid: int, name: str, value: str) -> bool:
    """`pid`'s environment (as it was exec'd) holds `name=value`; False when unreadable."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            entries = f.read().split(b"\0")
    except OSError:
        return False
    return f"{name}={value}".encode() in entries


def pids_with_env(name: str, value: str, among: Iterable[int] | None = None) -> list[int]:
    """Live processes (all, or those in `among`) whose environment holds `name=value`;
    unreadable ones and zombies are skipped, and so is this process."""
    me = os.getpid()
    candidates = _all_pids() if among is None else among
    return [pid for pid in candidates if pid != me and has_env(pid, name, value) and is_alive(pid)]


def reap(pid: int) -> bool:
    """Collect `pid`'s exit status when it is our exited child; True when it was reaped."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == pid


def reap_orphans(keep: Iterable[int] = ()) -> list[int]:
    """Reap our zombie children except `keep` (processes someone else waits for)."""
    kept = set(keep) | WAITED_FOR
    me = os.getpid()
    return [pid for pid in children_of(me) if pid not in kept and is_zombie(pid) and reap(pid)]


def _signal(pid: int, sig: int, protected: set[int]) -> None:
    if pid in protected:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group_of(pid) == pid:
            os.killpg(pid, sig)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _protected() -> set[int]:
    """Never signal ourselves, our own group or our ancestors."""
    mine = {os.getpid(), os.getpgrp()}
    pid: int | None = os.getppid()
    while pid and pid not in mine:
        mine.add(pid)
        pid = parent_of(pid)
    return mine


def _alive_after(pids: Iterable[int], keep: set[int]) -> list[int]:
    me = os.getpid()
    alive = []
    for pid in pids:
        if is_zombie(pid) and pid not in keep | WAITED_FOR and parent_of(pid) == me:
            reap(pid)
        elif is_alive(pid):
            alive.append(pid)
    return alive


def kill_tree(
    pids: Iterable[int],
    *,
    grace: float = DEFAULT_GRACE,
    rescan: Callable[[], Iterable[int]] | None = None,
    keep_unreaped: Iterable[int] = (),
) -> list[int]:
    """SIGTERM each process and its descendants (and the group of each that leads one), wait
    up to `grace` seconds, SIGKILL what is left; reap those that are our children. Returns
    the pids still alive when SIGKILL was sent.

    `rescan` (optional) lists more processes to end (e.g. by cookie); it is called again
    before SIGKILL, so what was forked or detached during the grace period is killed too.
    `keep_unreaped`: our children whose exit status someone else collects (asyncio); the
    pids in `WAITED_FOR` are never reaped either.
    """
    steps = _kill_steps(pids, grace, rescan, set(keep_unreaped))
    try:
        while True:
            time.sleep(next(steps))
    except StopIteration as done:
        return list(done.value)


async def kill_tree_async(
    pids: Iterable[int],
    *,
    grace: float = DEFAULT_GRACE,
    rescan: Callable[[], Iterable[int]] | None = None,
    keep_unreaped: Iterable[int] = (),
) -> list[int]:
    """`kill_tree` that waits with `asyncio.sleep`, for an event loop that must keep going."""
    import asyncio  # the engine has it loaded; a plain caller of kill_tree does not pay for it

    steps = _kill_steps(pids, grace, rescan, set(keep_unreaped))
    try:
        while True:
            await asyncio.sleep(next(steps))
    except StopIteration as done:
        return list(done.value)


def _kill_steps(
    pids: Iterable[int],
    grace: float,
    rescan: Callable[[], Iterable[int]] | None,
    keep: set[int],
) -> Generator[float, None, list[int]]:
    """The kill sequence; yields how long to wait before the next look at /proc."""
    protected = _protected()
    targets = _expand(pids, rescan, protected)
    for pid in targets:
        _signal(pid, signal.SIGTERM, protected)
    deadline = time.monotonic() + grace
    alive = _alive_after(targets, keep)
    while alive and time.monotonic() < deadline:
        yield _POLL
        alive = _alive_after(alive, keep)
    survivors = _alive_after(_expand(alive, rescan, protected), keep)
    killed = list(survivors)
    for _round in range(10):  # a process may fork between a scan and its signal
        if not survivors:
            break
        for pid in survivors:
            _signal(pid, signal.SIGKILL, protected)
        limit = time.monotonic() + 2.0  # SIGKILL takes effect asynchronously
        while _alive_after(survivors, keep) and time.monotonic() < limit:
            yield _POLL / 4
        survivors = _alive_after(_expand(survivors, rescan, protected), keep)
        killed.extend(p for p in survivors if p not in killed)
    return killed


def _expand(
    pids: Iterable[int], rescan: Callable[[], Iterable[int]] | None, protected: set[int]
) -> list[int]:
    found: dict[int, None] = {}
    for pid in [*pids, *(rescan() if rescan else ())]:
        if pid in protected:  # nor its descendants: ours, or our siblings
            continue
        found[pid] = None
        for child in descendants_of(pid):
            found[child] = None
    return [pid for pid in found if pid not in protected]
