"""What a node type gets for one attempt: identity, environment, logging and subprocesses.

Logs are capped per attempt (`LOG_BYTES_LIMIT`, `LOG_LINES_LIMIT`): past the cap one
"output truncated" line is logged and the rest is dropped from the event stream (it is still
kept, up to `CAPTURE_LIMIT`, in the text a process returns). Processes run in the engine's own
process group (the supervisor kills the whole group on stop); on cancel or timeout the engine
kills the process and everything it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowrun_engine.errors import NodeError
from flowrun_engine.events import Redactor

CAPTURE_LIMIT = 10 * 1024 * 1024
LOG_BYTES_LIMIT = 2 * 1024 * 1024
LOG_LINES_LIMIT = 20_000
LINE_LIMIT = 16 * 1024
DRAIN_GRACE = 0.5  # seconds to read what is left after the process exited
_CHUNK = 64 * 1024

LogFn = Callable[[str, str], None]


@dataclass
class ProcessResult:
    exit_code: int
    stdout: str
    stderr: str


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
    ) -> ProcessResult:
        """Run `argv`, stream its lines as logs, return its exit code and (capped) text.

        Raises FileNotFoundError/PermissionError when the program cannot be started.
        """
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.subprocess_exec(
            lambda: _Protocol(loop),
            *argv,
            cwd=cwd or self.cwd,
            env=self.env if env is None else env,
            stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        proc = asyncio.subprocess.Process(transport, protocol, loop)
        try:
            return await self._communicate(proc, protocol.exited, stdin)
        except BaseException:
            await _kill_tree(proc, protocol.exited)
            raise
        finally:
            transport.close()  # pipes a background process may still hold

    async def _communicate(
        self, proc: asyncio.subprocess.Process, exited: asyncio.Future[None], stdin: bytes | None
    ) -> ProcessResult:
        assert proc.stdout is not None and proc.stderr is not None
        out, err = _Capture(self, "stdout"), _Capture(self, "stderr")
        tasks = [out.pump(proc.stdout), err.pump(proc.stderr)]
        if stdin is not None:
            tasks.append(_feed(proc, stdin))
        reading = asyncio.gather(*tasks)
        try:
            waiting: list[asyncio.Future[Any]] = [reading, exited]
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            await asyncio.wait_for(asyncio.shield(reading), None if reading.done() else DRAIN_GRACE)
            await exited
        except TimeoutError:  # `cmd &`: a background process still holds the pipes
            self.log("info", "… the command exited; its background processes keep running")
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
        code = proc.returncode
        return ProcessResult(
            exit_code=-1 if code is None else code, stdout=out.text(), stderr=err.text()
        )


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
        if len(self._pending) > LINE_LIMIT:
            self._emit(self._pending)
            self._pending = b""

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


def _descendants(pid: int) -> list[int]:
    """Children, grandchildren... of `pid` (Linux /proc; empty elsewhere)."""
    parents: dict[int, list[int]] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                ppid = _parent_of(int(entry))
                if ppid is not None:
                    parents.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[1]) if len(fields) > 1 else None


async def _kill_tree(proc: asyncio.subprocess.Process, exited: asyncio.Future[None]) -> None:
    if proc.returncode is None:
        for pid in [*_descendants(proc.pid), proc.pid]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(exited), 2.0)
