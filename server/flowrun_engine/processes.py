"""How a node's process starts: exec'd (`start_exec`, shell commands, agents) or forked by the
run's fork server (`start_forked`, python nodes). Either way `NodeContext` gets a `Started`:
its pid, pipes and a future of its exit code, and reads, waits and ends it the same way.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowrun_engine import containment, proctree
from flowrun_engine.forkserver import ForkServer

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Started:
    """A node's running process. `exited`: its exit code once it exits (`-signal` when a
    signal ended it); `close()` lets go of its pipes."""

    pid: int
    exited: asyncio.Future[int]
    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader
    stdin: asyncio.StreamWriter | None
    close: Callable[[], None]


async def start_exec(
    argv: list[str], cwd: str, env: dict[str, str], stdin: bytes | None, pass_fd: int | None
) -> Started:
    loop = asyncio.get_running_loop()
    with containment.spawning() as waited:
        transport, protocol = await loop.subprocess_exec(
            lambda: _Protocol(loop),
            *argv,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=() if pass_fd is None else (pass_fd,),
        )
        pid = transport.get_pid()
        waited.add(pid)
    proc = asyncio.subprocess.Process(transport, protocol, loop)
    assert proc.stdout is not None and proc.stderr is not None

    def close() -> None:
        proctree.WAITED_FOR.discard(pid)
        transport.close()

    return Started(pid, protocol.exited, proc.stdout, proc.stderr, proc.stdin, close)


async def start_forked(forks: ForkServer, token: str, result_fd: int) -> Started:
    """A process forked by `forks`; its stdin is a pipe (its job is written there)."""
    loop = asyncio.get_running_loop()
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    ours = [out_r, err_r, stdin_w]  # closed here until a transport owns them
    transports: list[asyncio.BaseTransport] = []

    def close() -> None:
        for transport in transports:
            transport.close()

    try:
        stdout = await _reader(loop, ours.pop(0), transports)
        stderr = await _reader(loop, ours.pop(0), transports)
        stdin = await _writer(loop, ours.pop(0), transports)
        pid, exited = await forks.fork(token, (stdin_r, out_w, err_w, result_fd))
    except BaseException:
        close()
        for fd in ours:
            os.close(fd)
        raise
    finally:
        for fd in (stdin_r, out_w, err_w):  # the child's ends: the server has its copies
            os.close(fd)
    return Started(pid, exited, stdout, stderr, stdin, close)


async def _reader(
    loop: asyncio.AbstractEventLoop, fd: int, transports: list[asyncio.BaseTransport]
) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=CHUNK, loop=loop)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader, loop=loop), os.fdopen(fd, "rb", 0)
    )
    transports.append(transport)
    return reader


async def _writer(
    loop: asyncio.AbstractEventLoop, fd: int, transports: list[asyncio.BaseTransport]
) -> asyncio.StreamWriter:
    protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader(loop=loop), loop=loop)
    transport, _ = await loop.connect_write_pipe(lambda: protocol, os.fdopen(fd, "wb", 0))
    transports.append(transport)
    return asyncio.StreamWriter(transport, protocol, None, loop)


class ResultReader:
    """Collects what a process writes to its result pipe (read while it runs: a big result
    must not fill the pipe and block the writer)."""

    def __init__(self, reader: asyncio.StreamReader, transport: asyncio.BaseTransport) -> None:
        self._reader = reader
        self._transport = transport
        self._chunks: list[bytes] = []

    @classmethod
    async def open(cls, fd: int) -> ResultReader:
        transports: list[asyncio.BaseTransport] = []
        reader = await _reader(asyncio.get_running_loop(), fd, transports)
        return cls(reader, transports[0])

    async def pump(self) -> None:
        try:
            while chunk := await self._reader.read(CHUNK):
                self._chunks.append(chunk)
        finally:
            self._transport.close()

    def data(self) -> bytes:
        return b"".join(self._chunks)

    def close(self) -> None:
        if not self._transport.is_closing():
            self._transport.close()


class _Protocol(asyncio.subprocess.SubprocessStreamProtocol):
    """Tells when the process exits, even while a background process keeps its pipes open
    (`Process.wait()` also waits for the pipes)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=CHUNK, loop=loop)
        self.exited: asyncio.Future[int] = loop.create_future()

    def process_exited(self) -> None:
        transport: Any = getattr(self, "_transport", None)  # the base class lets go of it
        code = None if transport is None else transport.get_returncode()
        super().process_exited()
        if not self.exited.done():
            self.exited.set_result(-1 if code is None else code)
