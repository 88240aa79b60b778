"""The early child: `flowrun run` spawns the engine before asyncio, logging and the history load.

`early_child` spawns, with plain `subprocess`, the child a cached (known valid) file would
get; it boots meanwhile and waits for its stdin. `RunService.execute(prespawned=...)` hands
it to the `EngineChild` it would start when the specs match exactly (`adopt`), which then
drives it through `AdoptedProcess`; otherwise it is discarded.

On the early path: no asyncio, logging or dataclasses at module level here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.runs import process_groups, resolved_cache
from flowrun.runs.launch import (
    LaunchSpec,
    child_environment,
    engine_argv,
    engine_location,
    make_scratch,
    new_execution_id,
    spec_for_run,
)
from flowrun.runs.workflow_secrets import gather_secrets

if TYPE_CHECKING:
    import asyncio


class Prespawned:
    """An engine child started with plain `subprocess` (no asyncio loaded yet), so that its
    interpreter boots while the caller loads the rest; it waits for its stdin, which only
    an `EngineChild` that adopts it writes. `discard()` it when nobody adopts it."""

    def __init__(
        self, spec: LaunchSpec, popen: subprocess.Popen[bytes], scratch: Path, read_fd: int
    ) -> None:
        self.spec = spec
        self.popen = popen
        self.scratch = scratch
        self.read_fd = read_fd
        self.adopted = False

    def discard(self) -> None:
        process_groups.signal_group(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(self.read_fd)
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self.popen.wait()
        process_groups.discard_group(self.popen.pid)
        process_groups.remove_scratch(self.scratch)


def prespawn(spec: LaunchSpec) -> Prespawned:
    """Spawn the child of `spec` now, exactly as `EngineChild.start` would."""
    engine = spec.engine or engine_location()
    scratch = make_scratch(engine)
    read_fd, write_fd = os.pipe()
    try:
        process_groups.install_exit_handlers()
        popen = subprocess.Popen(
            engine_argv(spec.python, write_fd, engine.module),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
            start_new_session=True,
            env=child_environment(spec, scratch),
            cwd=spec.cwd,
        )
    except OSError:
        os.close(read_fd)
        process_groups.remove_scratch(scratch)
        raise
    finally:
        os.close(write_fd)
    process_groups.add_group(popen.pid)
    process_groups.add_scratch(scratch)
    return Prespawned(spec, popen, scratch, read_fd)


def early_child(
    path: Path,
    *,
    inputs: dict[str, Any] | None = None,
    trigger: dict[str, Any] | None = None,
    python: str | None = None,
    timeout: float | None = None,
    max_parallel: int | None = None,
    mode: str = "test",
) -> Prespawned | None:
    """Spawn the child of a run of `path` now, before asyncio and the history load, when
    the file is known valid (cached) and the interpreter is a plain executable; the engine
    boots meanwhile and waits for its input. Pass it to `execute(prespawned=...)`, which
    uses it only if it is exactly the child it would start, else kills it. None: nothing to
    gain (`execute` decides everything as usual)."""
    try:
        path = Path(path).resolve()
        source = resolved_cache.read_text(path)
        key = (
            resolved_cache.cache_key(path, source, inputs, trigger) if source is not None else None
        )
        entry = resolved_cache.load_entry(key)
        executable = plain_executable(python)
        if entry is None or entry.get("requires") or executable is None:
            return None
        resolved = entry["resolved"]
        options = resolved.setdefault("options", {})
        if timeout is not None:
            options["timeout"] = float(timeout)
        if max_parallel is not None:
            options["max_parallel"] = int(max_parallel)
        found = gather_secrets(resolved["workflow"], path)
        if found.missing:
            return None
        spec = spec_for_run(resolved, path, executable, new_execution_id(), found.values, mode)
        return prespawn(spec)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # the usual path reports whatever this is


def plain_executable(python: str | None) -> str | None:
    """The interpreter file `python` names (as pyenv finds it), unless it is a script (a
    pyenv/asdf shim, whose real interpreter only a probe tells)."""
    import shutil

    if python is None:
        found = shutil.which("python3") or shutil.which("python")
    elif os.sep in python:
        found = os.path.abspath(os.path.expanduser(python))
    else:
        found = shutil.which(python)
    if found is None or not os.access(found, os.X_OK):
        return None
    with open(found, "rb") as handle:
        return None if handle.read(2) == b"#!" else found


class AdoptedProcess:
    """A `Prespawned` child behind the parts of `asyncio.subprocess.Process` used here."""

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        streams: tuple[asyncio.StreamWriter, asyncio.StreamReader, asyncio.StreamReader],
        exited: asyncio.Future[None],
    ) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.stdin, self.stdout, self.stderr = streams
        self._exited = exited

    @classmethod
    async def attach(cls, popen: subprocess.Popen[bytes]) -> AdoptedProcess:
        import asyncio

        loop = asyncio.get_running_loop()
        assert popen.stdin is not None and popen.stdout is not None and popen.stderr is not None
        stdout = await _pipe_reader(loop, popen.stdout)
        stderr = await _pipe_reader(loop, popen.stderr)
        protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader(loop=loop), loop=loop)
        transport, _ = await loop.connect_write_pipe(lambda: protocol, popen.stdin)
        stdin = asyncio.StreamWriter(transport, protocol, None, loop)
        exited: asyncio.Future[None] = loop.create_future()

        def wait() -> None:  # a thread: Popen.wait is the portable way to await its exit
            popen.wait()
            with contextlib.suppress(RuntimeError):  # the loop is gone
                loop.call_soon_threadsafe(_set_done, exited)

        threading.Thread(target=wait, name=f"flowrun-wait-{popen.pid}", daemon=True).start()
        return cls(popen, (stdin, stdout, stderr), exited)

    @property
    def returncode(self) -> int | None:
        return self._popen.returncode

    async def wait(self) -> int:
        import asyncio

        await asyncio.shield(self._exited)
        return self._popen.returncode

    def close(self) -> None:
        self.stdin.close()  # the output pipes close at their end of file


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _pipe_reader(loop: asyncio.AbstractEventLoop, pipe: Any) -> asyncio.StreamReader:
    import asyncio

    reader = asyncio.StreamReader(limit=2**16, loop=loop)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe)
    return reader
