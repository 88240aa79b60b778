"""`spawn_engine(spec)`: the one way an engine child is started (synchronous, plain `subprocess`).

Used by the early child of `flowrun run` (before asyncio loads) and by `EngineChild.start`,
which then attaches its asyncio side to the running process. The child gets a scratch
folder, the event pipe as fd 3, a new session, and, where the system allows one, its own
cgroup (joined from a thread here while the engine boots: the engine starts nothing before
it has read its stdin, which is written only after `wait_contained()`).

On the early path: no asyncio, logging or dataclasses here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from pathlib import Path
from typing import IO, Protocol

from flowrun.runs import cgroup, containment, process_groups
from flowrun.runs.containment import Scope
from flowrun.runs.launch import (
    LaunchSpec,
    child_environment,
    engine_argv,
    engine_location,
    make_scratch,
)


class SpawnedEngine:
    """A started engine child that waits for its stdin; `end()` it unless somebody runs it."""

    def __init__(
        self,
        spec: LaunchSpec,
        popen: subprocess.Popen[bytes],
        scratch: Path,
        read_fd: int,
        cgroup_path: Path | None,
    ) -> None:
        self.spec = spec
        self.popen = popen
        self.pid = popen.pid
        self.scratch = scratch
        self.read_fd = read_fd  # the event pipe (the child's fd 3)
        self.cgroup = cgroup_path
        self._joining: threading.Thread | None = None
        if cgroup_path is not None:
            self._joining = threading.Thread(target=self._join, daemon=True)
            self._joining.start()

    def _join(self) -> None:
        if self.cgroup is not None and not cgroup.join(self.cgroup, self.pid):
            cgroup.remove(self.cgroup)  # not a closed box then: the scans take over
        cgroup.remove_stale_once()  # here: off the path to the run's result

    @property
    def scope(self) -> Scope:
        return Scope(self.spec.execution_id, self.pid, self.pid, self.cgroup)

    def wait_contained(self) -> None:
        """Block until the child is in its cgroup (a few ms of kernel work, once)."""
        if self._joining is not None:
            self._joining.join()
            self._joining = None

    def end(self, grace: float = 0.0) -> None:
        """End every process of this execution and release what the spawn took (never ran,
        or ran and exited): fds, the scratch folder, the registration."""
        self.wait_contained()
        containment.end_execution(self.scope, grace=grace)
        close_and_reap(self.popen, self.read_fd)
        self.release()

    def release(self) -> None:
        self.forget()
        process_groups.remove_scratch(self.scratch)

    def forget(self) -> None:
        """No more a live execution of this process (its scratch folder stays)."""
        process_groups.discard(self.spec.execution_id)


class Child(Protocol):
    """What `close_and_reap` needs of a child: `subprocess.Popen` or a zygote's forked child."""

    @property
    def stdin(self) -> IO[bytes] | None: ...

    @property
    def stdout(self) -> IO[bytes] | None: ...

    @property
    def stderr(self) -> IO[bytes] | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


def start_child(
    argv: list[str], write_fd: int, env: dict[str, str], cwd: str
) -> subprocess.Popen[bytes]:
    """A child in its own session, with piped stdio, that keeps `write_fd` (its event pipe)."""
    return subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=(write_fd,),
        start_new_session=True,
        env=env,
        cwd=cwd,
    )


def close_and_reap(popen: Child, read_fd: int) -> None:
    """Close our ends of a child's pipes (its event pipe, stdin/stdout/stderr) and wait for it:
    for a child that was just told to end."""
    with contextlib.suppress(OSError):
        os.close(read_fd)
    for stream in (popen.stdin, popen.stdout, popen.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    popen.wait()


def spawn_engine(spec: LaunchSpec) -> SpawnedEngine:
    """Start the engine child of `spec`; it boots and blocks reading its stdin. Raises
    OSError when the interpreter cannot be started (nothing is left behind then)."""
    process_groups.install_exit_handlers()
    engine = spec.engine or engine_location()
    scratch = make_scratch(engine)
    box = cgroup.create(spec.execution_id)
    read_fd, write_fd = os.pipe()
    try:
        argv = engine_argv(spec.python, write_fd, engine.module)
        popen = start_child(argv, write_fd, child_environment(spec, scratch), spec.cwd)
    except OSError:
        os.close(read_fd)
        process_groups.remove_scratch(scratch)
        if box is not None:
            cgroup.remove(box)
        raise
    finally:
        os.close(write_fd)
    spawned = SpawnedEngine(spec, popen, scratch, read_fd, box)
    process_groups.add(spawned.scope)
    process_groups.add_scratch(scratch)
    return spawned
