"""A cgroup v2 per execution, where the system lets this user create one (else nothing).

The closed box: every process of the engine's tree stays in it, however it detaches, and
`cgroup.kill` ends them all at once. The folder is `flowrun-<supervisor pid>-<execution id>`
beside this process's own cgroup, so a later supervisor can end what a killed one left
(`remove_stale`). Without a writable cgroup v2 (no mount, no delegation, no `cgroup.kill`,
kernel < 5.14) every function here is a no-op and the subreaper and the execution cookie
(`flowrun.runs.containment`) do the work.

On the early path of `flowrun run`: stdlib only, nothing heavy.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

PREFIX = "flowrun-"
_EMPTY_WAIT = 1.0
_base: Path | None = None
_probed = False
_stale_removed = False


def base() -> Path | None:
    """The folder our cgroups go in (this process's cgroup), when we may create them there."""
    global _base, _probed
    if not _probed:
        _probed = True
        _base = _find_base()
    return _base


def _find_base() -> Path | None:
    mount = _v2_mount()
    if mount is None:
        return None
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    own = next((line[3:] for line in lines if line.startswith("0::")), None)
    if own is None:
        return None
    folder = mount / own.lstrip("/")
    if not os.access(folder, os.W_OK) or not os.access(folder / "cgroup.procs", os.W_OK):
        return None
    return folder


def _v2_mount() -> Path | None:
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        dash = fields.index("-") if "-" in fields else -1
        if dash > 0 and fields[dash + 1] == "cgroup2":
            return Path(fields[4])
    return None


def create(execution_id: str) -> Path | None:
    """A new empty cgroup for one execution, or None (not possible here)."""
    folder = base()
    if folder is None:
        return None
    path = folder / f"{PREFIX}{os.getpid()}-{execution_id}"
    try:
        path.mkdir()
    except OSError:
        return None
    if not (path / "cgroup.kill").exists():  # kernel < 5.14: we could not end it at once
        remove(path)
        return None
    return path


def join(path: Path, pid: int) -> bool:
    """Move `pid` (before it starts anything) into `path`."""
    try:
        (path / "cgroup.procs").write_text(str(pid))
    except OSError:
        return False
    return True


def pids(path: Path) -> list[int]:
    try:
        text = (path / "cgroup.procs").read_text()
    except OSError:
        return []
    return [int(line) for line in text.split()]


def kill(path: Path) -> None:
    """SIGKILL every process in the cgroup (and its children), then remove it."""
    with contextlib.suppress(OSError):
        (path / "cgroup.kill").write_text("1")
    deadline = time.monotonic() + _EMPTY_WAIT
    while pids(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    remove(path)


def remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.rmdir()


def find(execution_id: str) -> Path | None:
    """The cgroup of an execution run by any supervisor beside us (for `flowrun stop`)."""
    folder = base()
    if folder is None:
        return None
    with contextlib.suppress(OSError):
        for path in folder.glob(f"{PREFIX}*-{execution_id}"):
            return path
    return None


def remove_stale_once() -> None:
    """`remove_stale()`, the first time in this process (from the first spawn's thread)."""
    global _stale_removed
    if not _stale_removed:
        _stale_removed = True
        remove_stale()


def remove_stale() -> list[Path]:
    """End and remove the cgroups of supervisors that are gone (killed by SIGKILL)."""
    from flowrun.runs.process_groups import pid_alive

    folder = base()
    removed: list[Path] = []
    if folder is None:
        return removed
    with contextlib.suppress(OSError):
        for path in folder.glob(f"{PREFIX}*-*"):
            owner = path.name[len(PREFIX) :].split("-", 1)[0]
            if owner.isdigit() and not pid_alive(int(owner)):
                kill(path)
                removed.append(path)
    return removed
