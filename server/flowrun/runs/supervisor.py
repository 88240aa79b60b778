"""Run one execution in an engine child, read its events, stop it: one `EngineChild` each.

The child is started by `flowrun.runs.spawn.spawn_engine` (or was, early, by `prespawn`);
this attaches to it: writes its input, reads its events (fd 3) and the tails of its
stdout/stderr, and watches its exit. The run ends when the engine process exits, never
when its pipes reach end of file (a detached descendant may hold them open): then the
execution's leftover processes are ended (`containment.end_execution`, grace 0) and the
pipes drained with a bound. Stopping ends every process of the execution (SIGTERM, SIGKILL
after `grace`).
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from flowrun.runs import containment, outcome, process_groups
from flowrun.runs.launch import BREAKPOINTS_FILE, LaunchSpec
from flowrun.runs.outcome import RunResult
from flowrun.runs.spawn import SpawnedEngine, spawn_engine

if TYPE_CHECKING:
    # imported where used: `flowrun run` spawns its child before asyncio loads
    import asyncio
    import logging

    from flowrun.runs.engine_io import EngineIO
    from flowrun.runs.prespawn import Prespawned


def _log() -> logging.Logger:
    import logging  # not at the top: `flowrun run` spawns its child before it loads

    return logging.getLogger(__name__)


EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
StartedHandler = Callable[[int], Awaitable[None]]


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
        grace: float = containment.GRACE,
    ) -> None:
        self.spec = spec
        self.grace = grace
        self._on_event = on_event
        self._on_started = on_started
        self.state = ChildState.STARTING
        self.pid: int | None = None
        self._engine: SpawnedEngine | None = None
        self._io: EngineIO | None = None
        self._stop_reason: str | None = None  # "stopped" | "timed_out"
        self._finished: dict[str, Any] | None = None
        self._running_nodes: dict[tuple[str, Any], dict[str, Any]] = {}
        self._redactions = outcome.redactions(spec.secrets)
        self._early: Prespawned | None = None
        self._ending: asyncio.Future[list[int]] | None = None
        self._pause = False  # asked to pause; sent once the engine can take SIGUSR1
        self._engine_ready = False  # `execution_started` seen: its signal handlers are set
        self._breakpoints: list[dict[str, Any]] | None = None  # changed since the start

    def adopt(self, early: Prespawned) -> None:
        """Run in `early`, a child already spawned with this spec (before `start`)."""
        self._early = early

    @property
    def scratch(self) -> str | None:
        return None if self._engine is None else str(self._engine.scratch)

    def _set_state(self, state: ChildState) -> None:
        if state is not self.state:
            _log().debug("execution %s: %s -> %s", self.spec.execution_id, self.state, state)
            self.state = state

    # -- start and supervise -----------------------------------------------------------------

    async def start(self) -> None:
        """Spawn the child (or take the adopted one) and hand it its input; `run()` reads
        its events. Separate so a caller can let the child boot while it records the run."""
        if self._engine is not None or self._stop_reason is not None:
            return
        if self._early is not None:
            engine, self._early = self._early.engine, None
        else:
            engine = spawn_engine(self.spec)  # OSError: the interpreter cannot start
        self._engine, self.pid = engine, engine.pid
        from flowrun.runs.engine_io import EngineIO  # asyncio: not before the early spawn

        try:
            self._io = await EngineIO.attach(engine, self._handle_line)
        except BaseException:
            engine.end()
            raise
        self._set_state(ChildState.RUNNING)

    async def run(self) -> RunResult:
        await self.start()
        engine, io = self._engine, self._io
        if engine is None or io is None:  # stopped before it started
            if self._early is not None:
                self._early.discard()
                self._early = None
            return await self._result(exit_code=None)
        try:
            return await self._supervise(engine, io)
        finally:
            import asyncio

            engine.forget()
            # removing the scratch folder is ms of I/O: off the loop
            await asyncio.to_thread(process_groups.remove_scratch, engine.scratch)

    async def _supervise(self, engine: SpawnedEngine, io: EngineIO) -> RunResult:
        if self._on_started is not None:
            await self._on_started(engine.pid)
        try:
            if self._stop_reason is not None:
                await self._terminate()
            await self._wait_exit(io)
        finally:
            self._set_state(ChildState.EXITED)
            # whatever the engine left behind (once: after `execution_finished` that has
            # begun already), then the pipes nobody holds any more
            if self._ending is None:
                await self._end_processes(grace=0.0)
            else:
                await self._ending
            await io.close()
        return await self._result(exit_code=engine.popen.returncode)

    async def _wait_exit(self, io: EngineIO) -> None:
        import asyncio

        timeout = self.spec.timeout
        if timeout is None:
            await io.exited()
            return
        try:
            # the engine stops itself at `timeout`; this is the backstop
            await asyncio.wait_for(io.exited(), timeout + self.grace + 1.0)
        except TimeoutError:
            if self._stop_reason is None:
                self._stop_reason = "timed_out"
            await self._terminate()
            await io.exited()

    async def _end_processes(self, grace: float) -> list[int]:
        """`containment.end_execution` off the event loop (it waits up to `grace`)."""
        import asyncio

        engine = self._engine
        if engine is None:
            return []
        return await asyncio.to_thread(containment.end_execution, engine.scope, grace=grace)

    # -- the events --------------------------------------------------------------------------

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
        if self._finished is event and self._engine is not None and self._ending is None:
            # The run is over; the engine's own teardown would only delay the result.
            import asyncio

            self._ending = asyncio.create_task(self._cut_short(self._engine.scope))

    async def _cut_short(self, scope: containment.Scope) -> list[int]:
        """Off the event loop: stopping the engine and reading its state takes a few ms that
        every other execution of a busy server would wait for."""
        import asyncio

        if await asyncio.to_thread(containment.cut_short, scope):  # nothing else of it lives
            return []
        return await self._end_processes(grace=0.0)

    def _track(self, event: dict[str, Any]) -> None:
        name = event.get("event")
        key = (str(event.get("node")), event.get("iteration"))
        if name == "node_started":
            self._running_nodes[key] = event
        elif name == "node_finished":
            self._running_nodes.pop(key, None)
        elif name == "execution_finished":
            self._finished = event
        elif name == "execution_started":
            self._engine_ready = True
            if self._pause:
                self.pause()  # asked before the engine could take it
            self._send_breakpoints()

    # -- stop and the end ------------------------------------------------------------------

    def pause(self) -> bool:
        """SIGUSR1 to the engine (`flowrun_engine.pausing`); before it set its handler (the
        default would kill it), the signal waits for `execution_started`. False when the
        execution already ended (or is ending)."""
        if self._finished is not None or self._stop_reason is not None:
            return False
        self._pause = True
        import signal

        self._signal(signal.SIGUSR1)
        return True

    def set_breakpoints(self, points: list[dict[str, Any]]) -> bool:
        """The editor's new breakpoints (`{node_id, condition, log_message}` each) for the
        nodes not started yet: written whole to the scratch folder's file, then SIGUSR2
        (`flowrun_engine.pausing`), which waits like a pause for `execution_started`. False
        when the execution already ended (or is ending)."""
        if self._finished is not None or self._stop_reason is not None:
            return False
        self._breakpoints = points
        self._send_breakpoints()
        return True

    def _send_breakpoints(self) -> None:
        engine = self._engine
        if self._breakpoints is None or engine is None or not self._engine_ready:
            return
        import os
        import signal

        target = engine.scratch / BREAKPOINTS_FILE
        temp = target.with_suffix(".tmp")
        temp.write_text(json.dumps(self._breakpoints), encoding="utf-8")
        os.replace(temp, target)  # the engine never reads half a list
        self._signal(signal.SIGUSR2)

    def _signal(self, sig: int) -> None:
        """A signal the engine handles; only once it set its handlers (the default would
        kill it)."""
        engine = self._engine
        if engine is not None and self._engine_ready and self.state is ChildState.RUNNING:
            engine.popen.send_signal(sig)  # a no-op once it exited

    async def stop(self, reason: str = "stopped") -> None:
        """End every process of the execution: SIGTERM, SIGKILL after the grace period."""
        if self._stop_reason is None:
            self._stop_reason = reason
        if self._engine is not None and self.state is ChildState.RUNNING:
            await self._terminate()

    async def _terminate(self) -> None:
        if self._engine is None or self.state is not ChildState.RUNNING:
            return
        self._set_state(ChildState.STOPPING)
        await self._end_processes(grace=self.grace)

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
        lines = self._io.stderr.lines() or self._io.stdout.lines() if self._io else []
        return "failed", outcome.crash_error(self.spec.python, exit_code, lines, self.spec.secrets)

    async def _emit_missing_events(self, status: str, error: dict[str, Any]) -> None:
        """Finish what the engine could not: its running nodes, then the execution."""
        running = list(self._running_nodes.values())
        for event in outcome.missing_events(running, status, error, time.time()):
            if event["event"] == "execution_finished":
                self._running_nodes.clear()
            await self._on_event(event)
