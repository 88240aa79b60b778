"""`RunService`: validate, check the interpreter, record, spawn, wait, stop.

Shared by the CLI and the LSP; neither spawns a child itself. `execute` returns the new
execution's id at once; the run goes on in a background task, queued while
`max_concurrent` runs are going. What happens before a run is in `prepare`, the child in
`supervisor`, the early child of `flowrun run` in `prespawn`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Unpack

from flowrun.runs.announcer import Announcer
from flowrun.runs.launch import (
    EngineLocation,
    LaunchSpec,
    RunOptions,
    new_execution_id,
    spec_for_run,
    with_limits,
)
from flowrun.runs.outcome import RunResult, stopped_result
from flowrun.runs.pins import apply_pin_files
from flowrun.runs.prepare import PYTHON_SUGGESTION, Prepared, prepare
from flowrun.runs.rerun import Parent, StartPoint
from flowrun.runs.supervisor import EngineChild
from flowrun.runs.workflow_secrets import required_secrets

if TYPE_CHECKING:
    # imported where used: the CLI loads this module as it starts
    import asyncio
    import logging

    from flowrun.history.interface import HistoryBackend
    from flowrun.pyenv.packages import OutputLine
    from flowrun.runs.prespawn import Prespawned
    from flowrun.runs.warm import WarmChildren
    from flowrun.telemetry import Tracing


def _log() -> logging.Logger:
    import logging  # not at the top: `flowrun run` spawns its child before it loads

    return logging.getLogger(__name__)


STOP_RECORD_WAIT = 3.0  # beyond the grace: the pipes' drain and the history's write

EventCallback = Callable[[str, dict[str, Any]], Awaitable[None] | None]


class TestRun(NamedTuple):
    """A workflow test's run (`flowrun.testing`): its name, recorded with the execution, and
    its mocks (`options.mocks`)."""

    name: str
    mocks: dict[str, list[dict[str, Any]]]


class _Run:
    def __init__(
        self,
        execution_id: str,
        child: EngineChild,
        announcer: Announcer,
        recorded: asyncio.Future[bool],
    ) -> None:
        self.execution_id = execution_id
        self.child = child
        self.announcer = announcer  # events go out once the history holds them
        # the child may start before the execution is recorded: its events wait for this
        self.recorded = recorded
        self.task: asyncio.Task[str] | None = None
        self.started = False  # holds one of the `max_concurrent` slots
        self.stop_requested = False


class RunService:
    def __init__(
        self,
        store: HistoryBackend,
        *,
        python: str | None = None,
        max_concurrent: int = 4,
        on_event: EventCallback | None = None,
        mode: str = "test",
        grace: float = 3.0,
        engine: EngineLocation | None = None,
        on_install: OutputLine | None = None,
        tracing: Tracing | None = None,
        warm: WarmChildren | None = None,
    ) -> None:
        """`on_install` gets the lines of an `install_missing` pip install as they come;
        `tracing` exports each ended execution as an OpenTelemetry trace; `warm`: each run
        takes a warm engine child from it (`runs.warm`) instead of starting an interpreter."""
        self.store = store
        self.python = python
        self.mode = mode
        self.grace = grace
        self.on_event = on_event
        self.on_install = on_install
        self.tracing = tracing
        self.engine = engine  # None: the installed flowrun_engine (tests use fakes)
        self.warm = warm
        self._max_concurrent = max_concurrent
        import asyncio

        self._free_slots = max_concurrent  # runs beyond it wait, `queued`
        self._slots_changed = asyncio.Condition()
        self._runs: dict[str, _Run] = {}

    # -- the documented API -----------------------------------------------------------

    async def execute(
        self,
        path: Path,
        *,
        start: StartPoint | None = None,
        install_missing: bool = False,
        text: str | None = None,
        prespawned: Prespawned | None = None,
        test: TestRun | None = None,
        **options: Unpack[RunOptions],
    ) -> str:
        """`start`: what the run reuses of an earlier execution (`runs.rerun.StartPoint`).
        `prespawned`: a child spawned from `early_child(...)`; used when it matches the run
        exactly, else killed. `test`: a workflow test's run (refused in production)."""
        try:
            if test is not None and self.mode == "production":
                raise ValueError(
                    "workflow tests and their mocks never run in production (design §9)"
                )
            path = Path(path).resolve()
            python = options.get("python") or self.python
            inputs, trigger = options.get("inputs"), options.get("trigger")
            prepared = await prepare(
                path, text, python, install_missing, inputs, trigger, self.on_install
            )
            resolved = with_limits(prepared.resolved, options)
            if self.mode != "production":  # as `pin:`, never in production
                apply_pin_files(resolved, path)
            if test is not None:
                resolved["options"]["mocks"] = test.mocks
            parent: Parent = (None, None)
            if start is not None:
                parent = await start.start(resolved, path, self.store)
            return await self._start(path, prepared, prespawned, test, parent)
        finally:
            if prespawned is not None and not prespawned.adopted:
                prespawned.discard()

    async def _start(
        self,
        path: Path,
        prepared: Prepared,
        prespawned: Prespawned | None,
        test: TestRun | None,
        parent: tuple[str | None, str | None] = (None, None),
    ) -> str:
        """Record the execution, its child started meanwhile when a slot is free."""
        import asyncio

        resolved = prepared.resolved
        secrets = required_secrets(resolved, path)
        execution_id = prespawned.spec.execution_id if prespawned else new_execution_id()
        workflow_id = str(resolved["workflow"]["id"])
        python_path = prepared.info.executable or prepared.info.path
        spec = spec_for_run(
            resolved, path, python_path, execution_id, secrets, self.mode, self.engine
        )
        if prespawned is not None and prespawned.spec != spec:
            prespawned.discard()  # now: its processes carry this execution's id too
        run = _Run(execution_id, *self._child(spec))
        try:
            if prepared.known_valid and self._free_slots > self._queued():
                # the child boots (an interpreter start) while the execution is recorded
                await self._start_early(run, spec, prespawned)
            await self.store.create_execution(
                execution_id=execution_id,
                workflow_id=workflow_id,
                file=str(path),
                trigger=resolved.get("trigger"),
                inputs=resolved.get("inputs"),
                status="queued",
                mode=self.mode,
                test_name=test.name if test is not None else None,
                parent_execution_id=parent[0],
                from_node=parent[1],
            )
        except BaseException:
            run.recorded.set_result(False)  # its events are dropped, not each an error
            await self._abandon(run)
            raise
        run.recorded.set_result(True)
        self._runs[execution_id] = run
        run.task = asyncio.create_task(self._run(run), name=f"flowrun-run-{execution_id[:8]}")
        # a finished run is answered from the store: keeping it would grow a daemon forever
        run.task.add_done_callback(lambda _task: self._runs.pop(execution_id, None))
        return execution_id

    async def _start_early(
        self, run: _Run, spec: LaunchSpec, prespawned: Prespawned | None
    ) -> None:
        if prespawned is not None and prespawned.spec == spec:
            prespawned.adopted = True
            run.child.adopt(prespawned)
        else:
            self._adopt_warm(run)
        self._free_slots -= 1
        run.started = True
        with contextlib.suppress(OSError):  # run() reports it as a failed run
            await run.child.start()

    async def wait(self, execution_id: str) -> str:
        import asyncio

        run = self._runs.get(execution_id)
        if run is not None and run.task is not None:
            return await asyncio.shield(run.task)
        status = await self.store.status_of(execution_id)
        if status is None:
            from flowrun.runs.errors import UnknownExecution

            raise UnknownExecution(f"No execution {execution_id} in {self.store.path}.")
        return status

    async def stop(self, execution_id: str) -> bool:
        run = self._runs.get(execution_id)
        if run is None or run.task is None or run.task.done():
            return False
        run.stop_requested = True
        if run.started:
            await run.child.stop()
        else:  # leave the queue at once
            async with self._slots_changed:
                self._slots_changed.notify_all()
        # answer once the end is recorded: a reader asking right after sees it
        import asyncio

        await asyncio.wait({run.task}, timeout=self.grace + STOP_RECORD_WAIT)
        return True

    async def pause(self, execution_id: str) -> bool:
        """Ask a running execution to pause (flowrun/pause): no node starts any more, the
        running ones finish, and it ends `paused`; False when it is not running here."""
        run = self._running(execution_id)
        return run is not None and run.child.pause()

    async def set_breakpoints(self, execution_id: str, points: list[dict[str, Any]]) -> bool:
        """The editor's new breakpoints for a running execution (flowrun/setBreakpoints): the
        nodes not started yet pause by them; False when it is not running here."""
        run = self._running(execution_id)
        return run is not None and run.child.set_breakpoints(points)

    def _running(self, execution_id: str) -> _Run | None:
        run = self._runs.get(execution_id)
        return None if run is None or run.task is None or run.task.done() else run

    async def set_max_concurrent(self, limit: int) -> None:
        """Change how many runs go at once; queued runs start as soon as slots open."""
        async with self._slots_changed:
            self._free_slots += limit - self._max_concurrent
            self._max_concurrent = limit
            self._slots_changed.notify_all()

    def _queued(self) -> int:
        """Runs waiting for a slot (an early start must not overtake them)."""
        return sum(1 for run in self._runs.values() if not run.started and run.task is not None)

    def running(self) -> list[str]:
        return [eid for eid, run in self._runs.items() if run.task and not run.task.done()]

    async def shutdown(self) -> None:
        import asyncio

        ids = self.running()
        await asyncio.gather(*(self.stop(eid) for eid in ids), return_exceptions=True)
        tasks = [run.task for run in self._runs.values() if run.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.store.flush()

    # -- the run ---------------------------------------------------------------------------

    def _child(self, spec: LaunchSpec) -> tuple[EngineChild, Announcer, asyncio.Future[bool]]:
        import asyncio

        execution_id = spec.execution_id

        async def announce(event: dict[str, Any]) -> None:
            await self._notify(execution_id, event)

        announcer = Announcer(announce)
        recorded: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        async def on_event(event: dict[str, Any]) -> None:
            if await asyncio.shield(recorded):  # never recorded (no history): nothing to add to
                announcer.put(await self.store.record_event(execution_id, event), event)

        async def on_started(pid: int) -> None:
            await self.store.set_process(execution_id, pgid=pid)

        child = EngineChild(spec, on_event=on_event, on_started=on_started, grace=self.grace)
        return child, announcer, recorded

    async def _notify(self, execution_id: str, event: dict[str, Any]) -> None:
        if self.on_event is None:
            return
        import inspect

        try:
            result = self.on_event(execution_id, event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            _log().exception("on_event callback failed for execution %s", execution_id)

    async def _run(self, run: _Run) -> str:
        import asyncio

        try:
            result = await self._run_in_slot(run)
        except OSError as exc:
            result = await self._spawn_failed(run, exc)
        except asyncio.CancelledError:  # the service's loop is going away
            await run.child.stop()
            result = stopped_result()
        try:
            await self.store.finish(
                run.execution_id, status=result.status, outputs=result.outputs, error=result.error
            )
        except Exception:
            _log().exception("could not record the end of execution %s", run.execution_id)
        if self.tracing is not None:
            await self.tracing.export(self.store, run.execution_id)
        await run.announcer.drained()  # `wait()` returns after the last notification
        return result.status

    async def _run_in_slot(self, run: _Run) -> RunResult:
        if not run.started:
            async with self._slots_changed:
                await self._slots_changed.wait_for(
                    lambda: run.stop_requested or self._free_slots > 0
                )
                if not run.stop_requested:
                    self._free_slots -= 1
                    run.started = True
                    self._adopt_warm(run)
            if not run.started:  # stopped while queued: finish without spawning
                await run.child.stop()
                return await run.child.run()
        try:
            return await run.child.run()
        finally:
            await self._release_slot()

    def _adopt_warm(self, run: _Run) -> None:
        early = None if self.warm is None else self.warm.take(run.child.spec)
        if early is not None:
            early.adopted = True
            run.child.adopt(early)

    async def _release_slot(self) -> None:
        async with self._slots_changed:
            self._free_slots += 1
            self._slots_changed.notify_all()

    async def _abandon(self, run: _Run) -> None:
        """The execution could not be recorded: stop a child that was already started."""
        if run.started:
            await run.child.stop()
            with contextlib.suppress(Exception):
                await run.child.run()
            await self._release_slot()

    async def _spawn_failed(self, run: _Run, exc: OSError) -> RunResult:
        error = {
            "type": "PythonNotFound",
            "message": f"Could not start {run.child.spec.python}: {exc}.",
            "suggestion": PYTHON_SUGGESTION,
        }
        import time

        event = {"event": "execution_finished", "t": time.time(), "status": "failed"}
        event.update({"outputs": None, "error": error})
        run.announcer.put(await self.store.record_event(run.execution_id, event), event)
        return RunResult("failed", None, error, None, False)
