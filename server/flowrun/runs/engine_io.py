"""The asyncio side of a spawned engine: its input, its event lines, its output tails, its exit.

Attached to a process `spawn_engine` started (plain `subprocess`). The exit is watched on
a pidfd (Linux ≥ 5.3; a thread waiting on the process elsewhere), never by end of file:
a detached descendant can keep the pipes open for as long as it lives. `close()` gives the
pipes a bounded time to deliver what the engine wrote before it exited, then closes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import threading
from collections.abc import Awaitable, Callable

from flowrun.runs.outcome import Tail
from flowrun.runs.spawn import SpawnedEngine

LineHandler = Callable[[bytes], Awaitable[None]]

DRAIN_TIMEOUT = 2.0
_LIMIT = 2**16


class _TailProtocol(asyncio.Protocol):
    def __init__(self, tail: Tail, done: asyncio.Future[None]) -> None:
        self.tail = tail
        self.done = done

    def itself(self) -> _TailProtocol:
        return self

    def data_received(self, data: bytes) -> None:
        self.tail.add(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


class EngineIO:
    def __init__(self, engine: SpawnedEngine, on_line: LineHandler) -> None:
        self.engine = engine
        self.stdout = Tail()
        self.stderr = Tail()
        self._on_line = on_line
        self._loop = asyncio.get_running_loop()
        self._exit: asyncio.Future[None] = self._loop.create_future()
        self._transports: list[asyncio.BaseTransport] = []
        self._readers: list[asyncio.Future[None]] = []
        self._writer: asyncio.Task[None] | None = None
        self._pidfd: int | None = None

    @classmethod
    async def attach(cls, engine: SpawnedEngine, on_line: LineHandler) -> EngineIO:
        io = cls(engine, on_line)
        try:
            await io._connect()
        except BaseException:
            await io.close(drain=0.0)
            raise
        return io

    async def _connect(self) -> None:
        popen = self.engine.popen
        assert popen.stdin is not None and popen.stdout is not None and popen.stderr is not None
        self._watch_exit()
        for stream, tail in ((popen.stdout, self.stdout), (popen.stderr, self.stderr)):
            done: asyncio.Future[None] = self._loop.create_future()
            protocol = _TailProtocol(tail, done)
            transport, _ = await self._loop.connect_read_pipe(protocol.itself, stream)
            self._transports.append(transport)
            self._readers.append(done)
        events = asyncio.StreamReader(limit=_LIMIT, loop=self._loop)
        pipe = os.fdopen(self.engine.read_fd, "rb", buffering=0)
        transport, _ = await self._loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(events, loop=self._loop), pipe
        )
        self._transports.append(transport)
        self._readers.append(asyncio.ensure_future(self._read_events(events)))
        self._writer = asyncio.create_task(self._write_input())

    # -- the exit ------------------------------------------------------------------------------

    def _watch_exit(self) -> None:
        pid = self.engine.pid
        on_exit = getattr(self.engine.popen, "add_exit_callback", None)
        if on_exit is not None:  # a fork server's child: its reader thread says when
            on_exit(self._exited_in_thread)
            return
        try:
            if not isinstance(self.engine.popen, subprocess.Popen):
                raise OSError("not our child: its own wait() says when it ended")
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):  # not Linux ≥ 5.3: a thread waits instead
            threading.Thread(
                target=self._wait_in_thread, name=f"flowrun-wait-{pid}", daemon=True
            ).start()
            return

        def readable() -> None:
            self._loop.remove_reader(pidfd)
            os.close(pidfd)
            self._pidfd = None
            self.engine.popen.wait()  # exited: this only collects the status
            self._set_exited()

        self._pidfd = pidfd
        self._loop.add_reader(pidfd, readable)

    def _wait_in_thread(self) -> None:
        self.engine.popen.wait()
        self._exited_in_thread()

    def _exited_in_thread(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone
            self._loop.call_soon_threadsafe(self._set_exited)

    def _set_exited(self) -> None:
        if not self._exit.done():
            self._exit.set_result(None)

    async def exited(self) -> None:
        await asyncio.shield(self._exit)

    # -- the pipes -----------------------------------------------------------------------------

    async def _write_input(self) -> None:
        popen = self.engine.popen
        assert popen.stdin is not None
        if self.engine.cgroup is not None:  # nothing may start before it is contained
            await asyncio.to_thread(self.engine.wait_contained)
        protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader(loop=self._loop))
        transport, _ = await self._loop.connect_write_pipe(lambda: protocol, popen.stdin)
        self._transports.append(transport)
        writer = asyncio.StreamWriter(transport, protocol, None, self._loop)
        data = json.dumps(self.engine.spec.payload).encode("utf-8")
        with contextlib.suppress(ConnectionError, BrokenPipeError):
            writer.write(data)
            await writer.drain()
            writer.close()

    async def _read_events(self, reader: asyncio.StreamReader) -> None:
        buffer = bytearray()
        while chunk := await reader.read(_LIMIT):
            buffer += chunk
            lines = buffer.split(b"\n")
            buffer = lines.pop()
            for line in lines:
                await self._on_line(bytes(line))
        if buffer.strip():
            await self._on_line(bytes(buffer))

    async def close(self, drain: float = DRAIN_TIMEOUT) -> None:
        """Read what is left in the pipes (at most `drain` seconds), then close them."""
        pending = {reader for reader in self._readers if not reader.done()}
        if pending and drain > 0:
            _, pending = await asyncio.wait(pending, timeout=drain)
        for reader in pending:
            reader.cancel()
        if pending:
            await asyncio.wait(pending)
        for reader in self._readers:
            if not reader.cancelled() and reader.exception() is not None:
                _log().error("engine pipe reader failed", exc_info=reader.exception())
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(BaseException):
                await self._writer
        for transport in self._transports:
            transport.close()
        if self._pidfd is not None:  # never exited: it was ended (attach failed)
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None


def _log() -> logging.Logger:
    return logging.getLogger(__name__)
