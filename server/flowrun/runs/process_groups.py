"""The live executions of this process: ended (every process, `containment.end_execution`)
and their scratch folders removed when this process exits or gets SIGTERM/SIGHUP unhandled.

Also removes the scratch folders killed supervisors left behind (their names hold the pid);
their cgroups are ended by `cgroup.remove_stale_once`, run by the first spawn.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path

from flowrun.runs import containment
from flowrun.runs.containment import Scope
from flowrun.runs.launch import SCRATCH_PREFIX

_live: dict[str, Scope] = {}
_live_scratch: set[Path] = set()
_handlers_installed = False


def live() -> list[Scope]:
    return list(_live.values())


def live_pids() -> frozenset[int]:
    return frozenset(scope.pid for scope in _live.values() if scope.pid is not None)


def add(scope: Scope) -> None:
    _live[scope.execution_id] = scope


def discard(execution_id: str) -> None:
    _live.pop(execution_id, None)


def add_group(pgid: int) -> None:
    """A process group (and tree) to end at exit that has no execution yet (a warm child or
    the zygote of `flowrun serve`)."""
    add(Scope(f"group-{pgid}", pgid, pgid))


def discard_group(pgid: int) -> None:
    discard(f"group-{pgid}")


def signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def add_scratch(scratch: Path) -> None:
    _live_scratch.add(scratch)


def remove_scratch(scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)
    _live_scratch.discard(scratch)


def end_live(grace: float = containment.GRACE) -> None:
    """End every live execution (atexit, fatal signals), remove every scratch folder."""
    for scope in list(_live.values()):
        containment.end_execution(scope, grace=grace)
    _live.clear()
    for scratch in list(_live_scratch):
        shutil.rmtree(scratch, ignore_errors=True)
    _live_scratch.clear()


def _on_fatal_signal(signum: int, frame: object) -> None:
    end_live()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def remove_stale_scratch(folder: Path | None = None) -> list[Path]:
    """Remove the scratch folders of supervisors that are gone; returns what was removed."""
    base = folder or Path(tempfile.gettempdir())
    removed = []
    with contextlib.suppress(OSError), os.scandir(base) as entries:
        for entry in entries:
            owner = entry.name[len(SCRATCH_PREFIX) :].split("-", 1)[0]
            if not entry.name.startswith(SCRATCH_PREFIX) or not owner.isdigit():
                continue
            if pid_alive(int(owner)) or not entry.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_uid == os.getuid():
                    shutil.rmtree(entry.path)
                    removed.append(Path(entry.path))
    return removed


def pid_alive(pid: int | None) -> bool:
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A dead process its parent has not reaped yet still answers kill(pid, 0) (Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def install_exit_handlers() -> None:
    """Once per process: become a child subreaper; end live executions at exit and on
    SIGTERM/SIGHUP (if unhandled); remove the scratch folders killed supervisors left."""
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    containment.become_subreaper()
    remove_stale_scratch()
    atexit.register(end_live)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not the main thread
            if signal.getsignal(signum) == signal.SIG_DFL:
                signal.signal(signum, _on_fatal_signal)
