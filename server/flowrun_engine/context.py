"""What a node type gets for one attempt: identity, environment, logging and subprocesses.

Logs are capped per attempt (`LOG_BYTES_LIMIT`, `LOG_LINES_LIMIT`): past the cap one
"output truncated" line is logged and the rest is dropped from the event stream (it is still
kept, up to `CAPTURE_LIMIT`, in the text a process returns). Processes run in the engine's own
process group (the supervisor kills the whole group on stop) with the attempt's
`FLOWRUN_NODE_TOKEN`. An attempt ends when its process exits, or on cancel (timeout, stop);
then the process, if still running, and everything it started are ended (containment.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowrun_engine import containment, proctree
from flowrun_engine.errors import NodeError
from flowrun_engine.events import Redactor

CAPTURE_LIMIT = 10 * 1024 * 1024
LOG_BYTES_LIMIT = 2 * 1024 * 1024
LOG_LINES_LIMIT = 20_000
LINE_LIMIT = 16 * 1024
QUIET = 0.05  # seconds for the pipes to reach EOF once the process exited (nothing holds them)
DRAIN_GRACE = 0.5  # seconds to read what is left once what it left running is ended
_CHUNK = 64 * 1024

LogFn = Callable[[str, str], None]


@dataclass
class ProcessResult:
    exit_code: int
    stdout: str
    stderr: str
    result: bytes | None = None  # what was written to the result pipe (`result_pipe=True`)


class NodeContext:
    """Built by the scheduler for each attempt; tests of node types build it directly."""

    def __init__(
        self,
        *,
        node_id: str = "node",
        attempt: int = 1,
        timeout: float = 60.0,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        scratch: str | None = None,
        secrets: dict[str, str] | None = None,
        on_log: LogFn | None = None,
        workflow_file: str | None = None,
        code_line: int | None = None,
        token: str | None = None,
    ) -> None:
        self.node_id = node_id
        self.attempt = attempt
        self.timeout = timeout
        self.env = dict(os.environ) if env is None else env
        self.cwd = os.getcwd() if cwd is None else cwd
        self.scratch = scratch or os.environ.get("TMPDIR") or "/tmp"
        self.secrets = {} if secrets is None else secrets
        self.workflow_file = workflow_file  # for messages and python tracebacks
        self.code_line = code_line  # line of the node's `code` in the file (python nodes)
        # FLOWRUN_NODE_TOKEN of this attempt's processes (containment.py)
        self.token = token or f"{node_id}:{attempt}:{os.urandom(8).hex()}"
        self.logs: list[tuple[str, str]] = []
        self._on_log: LogFn = on_log if on_log is not None else self._keep
        self._log_bytes = 0
        self._log_lines = 0
        self._closed = False

    def _keep(self, stream: str, text: str) -> None:
        self.logs.append((stream, text))

    @property
    def logs_exhausted(self) -> bool:
        return self._log_bytes > LOG_BYTES_LIMIT or self._log_lines > LOG_LINES_LIMIT

    def log(self, stream: str, text: str) -> None:
        """Emit one `node_log` (redacted by the sink); silent once the attempt is over."""
        if self._closed or self.logs_exhausted:
            return
        self._log_bytes += len(text)
        self._log_lines += 1
        if self.logs_exhausted:
            self._on_log(
                "info",
                "… output truncated: further logs of this node are not shown "
                f"(limit {LOG_BYTES_LIMIT // (1024 * 1024)} MiB / {LOG_LINES_LIMIT} lines)",
            )
            return
        self._on_log(stream, text)

    def close(self) -> None:
        """The attempt is over: later logs (from a stray thread) are dropped."""
        self._closed = True

    def redact(self, text: str) -> str:
        """`text` with every secret masked. Call it before cutting text short: the events are
        redacted too, but a secret cut in half no longer matches there."""
        return Redactor(self.secrets.values()).text(text)

    def working_dir(self, value: Any) -> str:
        """A node's `cwd` parameter, relative to the workspace folder; it must exist."""
        if not value:
            return self.cwd
        path = os.path.join(self.cwd, str(value))
        if not os.path.isdir(path):
            raise NodeError(
                "ExecutionError",
                f"node `{self.node_id}`: the folder `{value}` ({path}) does not exist",
                suggestion=(
                    "`cwd` is relative to the workflow's workspace folder; create it or fix it"
                ),
            )
        return path

    async def run_process(
        self,
        argv: list[str],
        *,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        stdin: bytes | None = None,
        result_pipe: bool = False,
    ) -> ProcessResult:
        """Run `argv`, stream its lines as logs, return its exit code and (capped) text.

        The node ends when the process exits: what is already in its pipes is read (for a
        short while), then every process it left running is ended. With `result_pipe`, the
        number of a pipe's write end is appended to `argv`; what the process writes there is
        `ProcessResult.result`. Raises FileNotFoundError/PermissionError when the program
        cannot be started.
        """
        env = {**(self.env if env is None else env), containment.TOKEN_VAR: self.token}
        result_fds = os.pipe() if result_pipe else None
        try:
            transport, proc, exited, result = await self._spawn(argv, cwd, env, stdin, result_fds)
        finally:
            if result_fds is not None:
                os.close(result_fds[1])
        try:
            return await self._communicate(proc, exited, stdin, result)
        except BaseException:
            await asyncio.shield(self._end_processes(proc.pid))
            raise
        finally:
            proctree.WAITED_FOR.discard(proc.pid)
            transport.close()  # pipes a killed process may still hold
            if result is not None:
                result.close()

    async def _spawn(
        self,
        argv: list[str],
        cwd: str | None,
        env: dict[str, str],
        stdin: bytes | None,
        result_fds: tuple[int, int] | None,
    ) -> tuple[
        asyncio.SubprocessTransport,
        asyncio.subprocess.Process,
        asyncio.Future[None],
        _ResultReader | None,
    ]:
        loop = asyncio.get_running_loop()
        result = None
        if result_fds is not None:
            argv = [*argv, str(result_fds[1])]
            result = await _ResultReader.open(loop, result_fds[0])
        try:
            with containment.spawning() as waited:
                transport, protocol = await loop.subprocess_exec(
                    lambda: _Protocol(loop),
                    *argv,
                    cwd=cwd or self.cwd,
                    env=env,
                    stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    pass_fds=() if result_fds is None else (result_fds[1],),
                )
                waited.add(transport.get_pid())
        except BaseException:
            if result is not None:
                result.close()
            raise
        proc = asyncio.subprocess.Process(transport, protocol, loop)
        return transport, proc, protocol.exited, result

    async def _end_processes(self, root: int | None) -> None:
        """SIGTERM then SIGKILL the process (when still running) and all it started."""
        found = await containment.end_node(self.token, root)
        left = [pid for pid in found if pid != root]
        if left and not self._closed:
            self.log("info", f"… ended {_processes(len(left))} the node left running")

    async def _communicate(
        self,
        proc: asyncio.subprocess.Process,
        exited: asyncio.Future[None],
        stdin: bytes | None,
        result: _ResultReader | None,
    ) -> ProcessResult:
        assert proc.stdout is not None and proc.stderr is not None
        out, err = _Capture(self, "stdout"), _Capture(self, "stderr")
        tasks = [out.pump(proc.stdout), err.pump(proc.stderr)]
        if result is not None:
            tasks.append(result.pump())
        if stdin is not None:
            tasks.append(_feed(proc, stdin))
        reading = asyncio.gather(*tasks)
        try:
            await exited  # the node's own process: never the pipes a descendant may hold
            await _bounded(reading, QUIET)
            await self._end_processes(None)  # what it left running, holding a pipe or not
            await _bounded(reading, DRAIN_GRACE)
            if not reading.done():
                self.log("info", "… a process the node started still holds its output open")
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
        code = proc.returncode
        return ProcessResult(
            exit_code=-1 if code is None else code,
            stdout=out.text(),
            stderr=err.text(),
            result=None if result is None else result.data(),
        )


async def _bounded(task: asyncio.Future[Any], seconds: float) -> None:
    """Wait for `task` at most `seconds` (it goes on)."""
    if not task.done():
        await asyncio.wait([task], timeout=seconds)


def _processes(count: int) -> str:
    return f"{count} process{'es' if count != 1 else ''}"


class _ResultReader:
    """Collects what a process writes to its result pipe (read while it runs: a big result
    must not fill the pipe and block the writer)."""

    def __init__(self, reader: asyncio.StreamReader, transport: asyncio.BaseTransport) -> None:
        self._reader = reader
        self._transport = transport
        self._chunks: list[bytes] = []

    @classmethod
    async def open(cls, loop: asyncio.AbstractEventLoop, fd: int) -> _ResultReader:
        reader = asyncio.StreamReader(limit=_CHUNK, loop=loop)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader, loop=loop), os.fdopen(fd, "rb", 0)
        )
        return cls(reader, transport)

    async def pump(self) -> None:
        try:
            while chunk := await self._reader.read(_CHUNK):
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
        super().__init__(limit=_CHUNK, loop=loop)
        self.exited: asyncio.Future[None] = loop.create_future()

    def process_exited(self) -> None:
        super().process_exited()
        if not self.exited.done():
            self.exited.set_result(None)


async def _feed(proc: asyncio.subprocess.Process, data: bytes) -> None:
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        proc.stdin.write(data)
        await proc.stdin.drain()
    proc.stdin.close()


class _Capture:
    """Keeps up to CAPTURE_LIMIT bytes of one stream and logs it line by line."""

    def __init__(self, ctx: NodeContext, stream: str) -> None:
        self._ctx = ctx
        self._stream = stream
        self._kept = bytearray()
        self._dropped = 0
        self._pending = b""

    async def pump(self, reader: asyncio.StreamReader) -> None:
        while chunk := await reader.read(_CHUNK):
            self._keep(chunk)
            if not self._ctx.logs_exhausted:
                self._log_lines(chunk)
        if self._pending:
            self._emit(self._pending)
            self._pending = b""

    def _keep(self, chunk: bytes) -> None:
        room = CAPTURE_LIMIT - len(self._kept)
        self._kept += chunk[:room]
        self._dropped += max(0, len(chunk) - room)

    def _log_lines(self, chunk: bytes) -> None:
        data = self._pending + chunk
        *lines, self._pending = data.split(b"\n")
        for line in lines:
            self._emit(line)
            if self._ctx.logs_exhausted:
                self._pending = b""
                return
        while len(self._pending) > LINE_LIMIT:  # a line that never ends: log it in pieces
            cut = LINE_LIMIT
            while cut > 1 and self._pending[cut] & 0xC0 == 0x80:  # not inside a character
                cut -= 1
            self._emit(self._pending[:cut])
            self._pending = self._pending[cut:]

    def _emit(self, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace").rstrip("\r")
        if len(text) > LINE_LIMIT:
            text = f"{text[:LINE_LIMIT]}… [line cut at {LINE_LIMIT} characters]"
        self._ctx.log(self._stream, text)

    def text(self) -> str:
        text = self._kept.decode("utf-8", errors="replace")
        if self._dropped:
            text += f"\n… [output truncated: {self._dropped} more bytes not kept]"
        return text
