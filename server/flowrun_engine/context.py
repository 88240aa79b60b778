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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from flowrun_engine import containment
from flowrun_engine.errors import NodeError
from flowrun_engine.events import LOG_BYTES_LIMIT, LOG_LINES_LIMIT, Redactor
from flowrun_engine.forkserver import ForkServer
from flowrun_engine.metrics import NodeMetrics
from flowrun_engine.processes import CHUNK, ResultReader, Started, start_exec, start_forked

CAPTURE_LIMIT = 10 * 1024 * 1024
LINE_LIMIT = 16 * 1024
QUIET = 0.05  # seconds for the pipes to reach EOF once the process exited (nothing holds them)
DRAIN_GRACE = 0.5  # seconds to read what is left once what it left running is ended

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
        forks: ForkServer | None = None,
        metrics: NodeMetrics | None = None,
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
        self.forks = forks  # the run's fork server (python nodes); None: the node starts one
        self.logs: list[tuple[str, str]] = []
        self.metrics = metrics if metrics is not None else NodeMetrics()  # the node's, all attempts
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

    def process_env(self, env: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a process of this attempt: `env` (default: the node's) with
        the attempt's token."""
        return {**(self.env if env is None else env), containment.TOKEN_VAR: self.token}

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

        async def start(result_fd: int | None) -> Started:
            args = argv if result_fd is None else [*argv, str(result_fd)]
            return await start_exec(args, cwd or self.cwd, self.process_env(env), stdin, result_fd)

        return await self._run(start, stdin, result_pipe)

    async def run_forked(self, forks: ForkServer, stdin: bytes) -> ProcessResult:
        """As `run_process`, for a process forked by the run's fork server (a python node's:
        `stdin` is its job, which names its environment and folder)."""

        async def start(result_fd: int | None) -> Started:
            assert result_fd is not None
            return await start_forked(forks, self.token, result_fd)

        return await self._run(start, stdin, True)

    async def _run(
        self,
        start: Callable[[int | None], Awaitable[Started]],
        stdin: bytes | None,
        result_pipe: bool,
    ) -> ProcessResult:
        result_fds = os.pipe() if result_pipe else None
        result = None
        try:
            if result_fds is not None:
                result = await ResultReader.open(result_fds[0])
            started = await start(None if result_fds is None else result_fds[1])
        except BaseException:
            if result is not None:
                result.close()
            raise
        finally:
            if result_fds is not None:
                os.close(result_fds[1])
        try:
            return await self._communicate(started, stdin, result)
        except BaseException:
            await asyncio.shield(self._end_processes(started.pid, started.exited))
            raise
        finally:
            started.close()  # pipes a killed process may still hold
            if result is not None:
                result.close()

    async def _end_processes(
        self, root: int | None, exited: asyncio.Future[int] | None = None
    ) -> None:
        """SIGTERM then SIGKILL the process (when still running) and all it started; then
        wait (a little) until its exit is collected: no zombie outlives the node."""
        found = await containment.end_node(self.token, root)
        if exited is not None:
            await _bounded(exited, containment.NODE_GRACE)
        left = [pid for pid in found if pid != root]
        if left and not self._closed:
            self.log("info", f"… ended {_processes(len(left))} the node left running")

    async def _communicate(
        self, started: Started, stdin: bytes | None, result: ResultReader | None
    ) -> ProcessResult:
        out, err = _Capture(self, "stdout"), _Capture(self, "stderr")
        tasks = [out.pump(started.stdout), err.pump(started.stderr)]
        if result is not None:
            tasks.append(result.pump())
        if started.stdin is not None:
            tasks.append(_feed(started.stdin, stdin or b""))
        reading = asyncio.gather(*tasks)
        try:
            await started.exited  # the node's own process: never the pipes a descendant may hold
            await _bounded(reading, QUIET)
            await self._end_processes(None)  # what it left running, holding a pipe or not
            await _bounded(reading, DRAIN_GRACE)
            if not reading.done():
                self.log("info", "… a process the node started still holds its output open")
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
        return ProcessResult(
            exit_code=started.exited.result(),
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


async def _feed(stdin: asyncio.StreamWriter, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stdin.write(data)
        await stdin.drain()
    stdin.close()


class _Capture:
    """Keeps up to CAPTURE_LIMIT bytes of one stream and logs it line by line."""

    def __init__(self, ctx: NodeContext, stream: str) -> None:
        self._ctx = ctx
        self._stream = stream
        self._kept = bytearray()
        self._dropped = 0
        self._pending = b""

    async def pump(self, reader: asyncio.StreamReader) -> None:
        while chunk := await reader.read(CHUNK):
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
