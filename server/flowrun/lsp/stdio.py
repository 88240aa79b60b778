"""Serve LSP over stdin/stdout so that every way the daemon can end cleans up.

pygls' own `start_io` reads stdin in a thread, which cannot be interrupted by SIGTERM. Here
stdin is an asyncio pipe: a `shutdown` request, stdin closing (the editor went away) and
SIGTERM all end in `server.close()`, which stops and records every run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import stat
import sys
import threading
from typing import BinaryIO

from pygls.io_ import StdoutWriter, run_async

from flowrun.lsp.server import FlowrunServer

log = logging.getLogger(__name__)


class _FileReader:
    """For stdin that epoll cannot watch (a regular file, /dev/null): plain reads in a thread."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    async def readline(self) -> bytes:
        return await asyncio.to_thread(self._stream.readline)

    async def readexactly(self, n: int) -> bytes:
        return await asyncio.to_thread(self._stream.read, n)


class _PipeReader:
    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream

    async def readline(self) -> bytes:
        return await self._stream.readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self._stream.readexactly(n)
        except asyncio.IncompleteReadError:
            return b""


def serve_stdio(
    server: FlowrunServer, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
) -> int:
    asyncio.run(_serve(server, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer))
    return 0


async def _serve(server: FlowrunServer, stdin: BinaryIO, stdout: BinaryIO) -> None:
    loop = asyncio.get_running_loop()
    reader: _PipeReader | _FileReader
    if _pollable(stdin):
        stream = asyncio.StreamReader(limit=2**26)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
        reader = _PipeReader(stream)
    else:
        reader = _FileReader(stdin)
    server.protocol.set_writer(StdoutWriter(stdout))
    main = asyncio.current_task()
    assert main is not None
    terminated = False

    def terminate() -> None:
        nonlocal terminated
        terminated = True
        main.cancel()

    for signum in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, terminate)
    try:
        await run_async(
            stop_event=threading.Event(),
            reader=reader,
            protocol=server.protocol,
            logger=log,
            error_handler=server.report_server_error,
        )
    except asyncio.CancelledError:
        if not terminated:
            raise
        main.uncancel()
        log.info("SIGTERM: stopping every run before exiting")
    finally:
        with contextlib.suppress(Exception):
            await server.close()


def _pollable(stream: BinaryIO) -> bool:
    mode = os.fstat(stream.fileno()).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or (stat.S_ISCHR(mode) and stream.isatty())
