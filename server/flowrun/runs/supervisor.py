"""Spawn the engine child, read its events, stop it: one `EngineChild` per execution.

The child (see `flowrun.runs.launch` for its argv and environment) starts in a new session:
its process group holds every process the workflow starts, and stopping kills the group
(SIGTERM, SIGKILL after `grace`). Events arrive as JSON lines on fd 3. A child spawned early
(`flowrun.runs.prespawn`) can be adopted instead of spawning one.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.runs import outcome, process_groups
from flowrun.runs.launch import (
    EngineLocation,
    LaunchSpec,
    child_environment,
    engine_argv,
    engine_location,
    make_scratch,
)
from flowrun.runs.outcome import RunResult, Tail
from flowrun.runs.prespawn import AdoptedProcess, Prespawned

if TYPE_CHECKING:
    # imported where used: `flowrun run` spawns its child before asyncio loads
    import asyncio
    import logging

    _Process = asyncio.subprocess.Process | AdoptedProcess


def _log() -> logging.Logger:
    import logging  # not at the top: `flowrun run` spawns its child before it loads

    return logging.getLogger(__name__)


EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
StartedHandler = Callable[[int], Awaitable[None]]

DRAIN_TIMEOUT = 2.0


class ChildState(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    EXITED = "exited"


class EngineChild:
    """Runs one execution in a child process; `run()` once, `stop()` at any time."""

    def __init__(
        self,
        spec: LaunchSpec,
        *,
        on_event: EventHandler,
        on_started: StartedHandler | None = None,
        grace: float = 3.0,
    ) -> None:
        self.spec = spec
        self.grace = grace
        self._on_event = on_event
        self._on_started = on_started
        self.state = ChildState.STARTING
        self.pid: int | None = None
        self._process: asyncio.subprocess.Process | AdoptedProcess | None = None
        self._scratch: Path | None = None
        self._read_fd = -1
        self._writer: asyncio.Task[None] | None = None
        self._stop_reason: str | None = None  # "stopped" | "timed_out"
        self._finished: dict[str, Any] | None = None
        self._running_nodes: dict[tuple[str, Any], dict[str, Any]] = {}
        self._stderr = Tail()
        self._stdout = Tail()
        self._redactions = outcome.redactions(spec.secrets)
        self._early: Prespawned | None = None

    def adopt(self, early: Prespawned) -> None:
        """Run in `early`, a child already spawned with this spec (before `start`)."""
        self._early = early

    async def _attach(self, early: Prespawned) -> None:
        import asyncio

        self._early = None
        try:
            self._process = await AdoptedProcess.attach(early.popen)
        except BaseException:
            early.discard()
            raise
        self._scratch, self._read_fd = early.scratch, early.read_fd
        self.pid = early.popen.pid
        self._set_state(ChildState.RUNNING)
        self._writer = asyncio.create_task(self._write_stdin(self._process))

    def _set_state(self, state: ChildState) -> None:
        if state is not self.state:
            _log().debug("execution %s: %s -> %s", self.spec.execution_id, self.state, state)
            self.state = state

    # -- start and supervise -----------------------------------------------------------------

    async def start(self) -> None:
        """Spawn the child and hand it its input; `run()` reads its events.

        Separate so a caller can let the child boot while it records the execution.
        """
        import asyncio

        if self._process is not None or self._stop_reason is not None:
            return
        if self._early is not None:
            await self._attach(self._early)
            return
        engine = self.spec.engine or engine_location()
        scratch = make_scratch(engine)
        read_fd, write_fd = os.pipe()
        try:
            self._process = await self._spawn(engine, scratch, write_fd)
        except OSError:
            os.close(read_fd)
            process_groups.remove_scratch(scratch)
            raise
        finally:
            os.close(write_fd)
        self._scratch, self._read_fd = scratch, read_fd
        process_groups.add_scratch(scratch)
        self._writer = asyncio.create_task(self._write_stdin(self._process))

    async def run(self) -> RunResult:
        await self.start()
        process = self._process
        if process is None:  # stopped before it started
            if self._early is not None:
                self._early.discard()
                self._early = None
            return await self._result(exit_code=None)
        try:
            return await self._supervise(process, self._read_fd)
        finally:
            if isinstance(process, AdoptedProcess):
                process.close()
            process_groups.discard_group(process.pid)
            if self._scratch is not None:
                process_groups.remove_scratch(self._scratch)

    async def _spawn(
        self, engine: EngineLocation, scratch: Path, write_fd: int
    ) -> asyncio.subprocess.Process:
        import asyncio

        process_groups.install_exit_handlers()
        process = await asyncio.create_subprocess_exec(
            *engine_argv(self.spec.python, write_fd, engine.module),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=(write_fd,),
            start_new_session=True,
            env=child_environment(self.spec, scratch),
            cwd=self.spec.cwd,
        )
        self.pid = process.pid
        process_groups.add_group(process.pid)
        self._set_state(ChildState.RUNNING)
        return process

    async def _supervise(self, process: _Process, read_fd: int) -> RunResult:
        import asyncio

        if self._on_started is not None:
            await self._on_started(process.pid)
        readers = [
            asyncio.create_task(self._read_events(read_fd)),
            asyncio.create_task(_drain(process.stdout, self._stdout)),
            asyncio.create_task(_drain(process.stderr, self._stderr)),
        ]
        try:
            if self._stop_reason is not None:
                await self._terminate()
            await self._wait_exit(process)
        finally:
            self._set_state(ChildState.EXITED)
            # whatever the workflow left behind
            process_groups.signal_group(process.pid, signal.SIGKILL)
            if self._writer is not None:
                self._writer.cancel()
            await _finish_readers(readers)
        return await self._result(exit_code=process.returncode)

    async def _wait_exit(self, process: _Process) -> None:
        import asyncio

        timeout = self.spec.timeout
        if timeout is None:
            await process.wait()
            return
        try:
            # the engine stops itself at `timeout`; this is the backstop
            await asyncio.wait_for(asyncio.shield(process.wait()), timeout + self.grace + 1.0)
        except TimeoutError:
            if self._stop_reason is None:
                self._stop_reason = "timed_out"
            await self._terminate()
            await process.wait()

    # -- the pipes -------------------------------------------------------------------------

    async def _write_stdin(self, process: _Process) -> None:
        assert process.stdin is not None
        data = json.dumps(self.spec.payload).encode("utf-8")
        with contextlib.suppress(ConnectionError, BrokenPipeError):
            process.stdin.write(data)
            await process.stdin.drain()
            process.stdin.close()
            await process.stdin.wait_closed()

    async def _read_events(self, read_fd: int) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2**16, loop=loop)
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe
        )
        try:
            buffer = bytearray()
            while chunk := await reader.read(2**16):
                buffer += chunk
                lines = buffer.split(b"\n")
                buffer = lines.pop()
                for line in lines:
                    await self._handle_line(line)
            if buffer.strip():
                await self._handle_line(bytes(buffer))
        finally:
            transport.close()

    async def _handle_line(self, line: bytes | bytearray) -> None:
        for raw, masked in self._redactions:
            if raw in line:
                line = line.replace(raw, masked)
        try:
            event = json.loads(line)
        except ValueError:
            _log().warning("execution %s: not an event: %.200r", self.spec.execution_id, line)
            return
        if not isinstance(event, dict):
            return
        self._track(event)
        try:
            await self._on_event(event)
        except Exception:  # keep reading: a stalled pipe would block the child
            _log().exception("execution %s: handling an event failed", self.spec.execution_id)
        if self._finished is event and self._process is not None:
            # The run is over; the engine's own teardown would only delay the result.
            # (Its group is killed after every run anyway.)
            process_groups.signal_group(self._process.pid, signal.SIGKILL)

    def _track(self, event: dict[str, Any]) -> None:
        name = event.get("event")
        key = (str(event.get("node")), event.get("iteration"))
        if name == "node_started":
            self._running_nodes[key] = event
        elif name == "node_finished":
            self._running_nodes.pop(key, None)
        elif name == "execution_finished":
            self._finished = event

    # -- stop and the end ------------------------------------------------------------------

    async def stop(self, reason: str = "stopped") -> None:
        """SIGTERM the child's group, SIGKILL it after the grace period."""
        if self._stop_reason is None:
            self._stop_reason = reason
        if self._process is not None and self.state is ChildState.RUNNING:
            await self._terminate()

    async def _terminate(self) -> None:
        import asyncio

        process = self._process
        if process is None or self.state is not ChildState.RUNNING:
            return
        self._set_state(ChildState.STOPPING)
        process_groups.signal_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), self.grace)
        except TimeoutError:
            _log().info("execution %s: SIGKILL after %.1fs", self.spec.execution_id, self.grace)
            process_groups.signal_group(process.pid, signal.SIGKILL)

    async def _result(self, exit_code: int | None) -> RunResult:
        finished = self._finished
        reason = self._stop_reason
        if finished is not None:
            status = str(finished.get("status", "failed"))
            error = finished.get("error")
            if reason == "timed_out" and status in ("stopped", "failed"):
                status, error = "timed_out", outcome.timeout_error(self.spec.timeout)
            return RunResult(status, finished.get("outputs"), error, exit_code, True)
        status, error = self._unfinished_outcome(exit_code)
        await self._emit_missing_events(status, error)
        return RunResult(status, None, error, exit_code, False)

    def _unfinished_outcome(self, exit_code: int | None) -> tuple[str, dict[str, Any]]:
        if self._stop_reason == "timed_out":
            return "timed_out", outcome.timeout_error(self.spec.timeout)
        if self._stop_reason is not None:
            return "stopped", outcome.stopped_error()
        lines = self._stderr.lines() or self._stdout.lines()
        return "failed", outcome.crash_error(self.spec.python, exit_code, lines, self.spec.secrets)

    async def _emit_missing_events(self, status: str, error: dict[str, Any]) -> None:
        """Finish what the engine could not: its running nodes, then the execution."""
        running = list(self._running_nodes.values())
        for event in outcome.missing_events(running, status, error, time.time()):
            if event["event"] == "execution_finished":
                self._running_nodes.clear()
            await self._on_event(event)


async def _drain(stream: asyncio.StreamReader | None, tail: Tail) -> None:
    if stream is None:
        return
    while chunk := await stream.read(2**16):
        tail.add(chunk)


async def _finish_readers(readers: list[asyncio.Task[None]]) -> None:
    """Let the readers reach EOF; a grandchild holding a pipe open cannot block us."""
    import asyncio

    done, pending = await asyncio.wait(readers, timeout=DRAIN_TIMEOUT)
    for task in pending:
        task.cancel()
    for task in done:
        if task.exception() is not None:
            _log().error("event reader failed", exc_info=task.exception())
    if pending:
        await asyncio.wait(pending)
