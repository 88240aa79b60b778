"""Every live engine process group and scratch folder, killed and removed when this process exits.

Also removes the scratch folders that killed supervisors left behind (their names hold the pid).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from flowrun.runs.launch import SCRATCH_PREFIX

_live_groups: set[int] = set()
_live_scratch: set[Path] = set()
_handlers_installed = False


def live_groups() -> set[int]:
    return set(_live_groups)


def add_group(pgid: int) -> None:
    _live_groups.add(pgid)


def discard_group(pgid: int) -> None:
    _live_groups.discard(pgid)


def add_scratch(scratch: Path) -> None:
    _live_scratch.add(scratch)


def remove_scratch(scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)
    _live_scratch.discard(scratch)


def signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def kill_live_groups(grace: float = 1.0) -> None:
    """SIGTERM every live group, SIGKILL what is left after `grace` (atexit, signals)."""
    groups = [pgid for pgid in list(_live_groups) if signal_group(pgid, signal.SIGTERM)]
    deadline = time.monotonic() + grace
    while groups and time.monotonic() < deadline:
        time.sleep(0.02)
        groups = [pgid for pgid in groups if signal_group(pgid, 0)]
    for pgid in groups:
        signal_group(pgid, signal.SIGKILL)
    _live_groups.clear()
    for scratch in list(_live_scratch):
        shutil.rmtree(scratch, ignore_errors=True)
    _live_scratch.clear()


def _on_fatal_signal(signum: int, frame: object) -> None:
    kill_live_groups()
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
    """Once per process: kill live groups at exit and on SIGTERM/SIGHUP (if unhandled);
    remove what killed supervisors left in the temp folder."""
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    remove_stale_scratch()
    atexit.register(kill_live_groups)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not the main thread
            if signal.getsignal(signum) == signal.SIG_DFL:
                signal.signal(signum, _on_fatal_signal)
