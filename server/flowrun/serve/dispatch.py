"""Production executions: admit (bounded queue), record `queued`, run in a warm child.

An accepted request is in the history (status `queued`, with its trigger and inputs)
before anything answers it; a run holds one of `max_concurrent` slots. On restart,
`recover()` runs the queued executions a killed server left behind and marks the
running ones `interrupted`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flowrun.history.store import HistoryStore
from flowrun.runs.launch import new_execution_id, spec_for_run
from flowrun.runs.outcome import RunResult
from flowrun.runs.supervisor import EngineChild
from flowrun.serve.pool import WarmPool
from flowrun.serve.routes import Route
from flowrun.spec.resolve import resolve_inputs
from flowrun.telemetry import Tracing

log = logging.getLogger(__name__)
MODE = "production"


class QueueFull(Exception):
    """More executions are waiting than `--queue-size`: answer 503."""


@dataclass
class Execution:
    id: str
    route: Route
    trigger: dict[str, Any]
    inputs: dict[str, Any]
    done: asyncio.Future[RunResult]
    nodes: dict[str, Any] = field(default_factory=dict)  # node id → {output, status}
    child: EngineChild | None = None
    stop_reason: str | None = None
    started_at: float | None = None


# ("finished", execution, its RunResult, seconds) or ("node_finished", execution, the event, 0)
Observer = Callable[[str, Execution | None, RunResult | dict[str, Any] | None, float], None]


class Dispatcher:
    def __init__(
        self,
        store: HistoryStore,
        pool: WarmPool,
        *,
        max_concurrent: int,
        queue_size: int,
        grace: float = 3.0,
        observe: Observer | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.store = store
        self.tracing = tracing  # OpenTelemetry: each ended execution, in the background
        self.pool = pool
        self.max_concurrent = max(1, max_concurrent)
        self.queue_size = max(0, queue_size)
        self.grace = grace
        self._observe = observe
        self._slots = asyncio.Semaphore(self.max_concurrent)
        self.waiting = 0
        self.running = 0
        self.draining = False  # queued executions stay queued (the next start runs them)
        self.executions: dict[str, Execution] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- accepting ----------------------------------------------------------------------

    def admit(self) -> None:
        """`QueueFull` unless the request can run now or wait in the queue."""
        if self.running + self.waiting >= self.max_concurrent + self.queue_size:
            raise QueueFull()

    async def submit(
        self, route: Route, trigger: dict[str, Any], inputs: dict[str, Any]
    ) -> Execution:
        """Record the execution `queued`, then run it in the background. `inputs` are
        checked first (`flowrun.spec.resolve.InputError`)."""
        self.admit()
        values = resolve_inputs(route.workflow.inputs, inputs)
        execution = self._new(new_execution_id(), route, trigger, values)
        self.waiting += 1
        try:
            await self.store.create_execution(
                execution_id=execution.id,
                workflow_id=route.workflow_id,
                file=str(route.file),
                trigger=trigger,
                inputs=values,
                status="queued",
                mode=MODE,
            )
        except BaseException:
            self.waiting -= 1
            raise
        self._start(execution)
        return execution

    def _new(
        self, execution_id: str, route: Route, trigger: dict[str, Any], inputs: dict[str, Any]
    ) -> Execution:
        done: asyncio.Future[RunResult] = asyncio.get_running_loop().create_future()
        execution = Execution(execution_id, route, trigger, inputs, done)
        self.executions[execution_id] = execution
        return execution

    def _start(self, execution: Execution) -> None:
        task = asyncio.create_task(self._run(execution), name=f"serve-{execution.id[:8]}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- running ------------------------------------------------------------------------

    async def _run(self, execution: Execution) -> None:
        result: RunResult | None = None
        try:
            async with self._slots:
                self.waiting -= 1
                if self.draining and execution.stop_reason is None:
                    message = "The server is shutting down; the execution runs when it restarts."
                    result = RunResult("stopped", None, _error("Unavailable", message), None, False)
                    return
                self.running += 1
                try:
                    result = await self._in_slot(execution)
                finally:
                    self.running -= 1
            await self._finish(execution, result)  # the slot is free for the next child
        except asyncio.CancelledError:
            result = RunResult(
                "stopped", None, _error("Stopped", "The server stopped."), None, False
            )
            raise
        finally:
            self.executions.pop(execution.id, None)
            if result is not None and not execution.done.done():
                execution.done.set_result(result)
            if self._observe is not None and result is not None:
                elapsed = time.monotonic() - (execution.started_at or time.monotonic())
                self._observe("finished", execution, result, elapsed)

    async def _in_slot(self, execution: Execution) -> RunResult:
        execution.started_at = time.monotonic()
        if execution.stop_reason is not None:  # stopped (timed out) while queued
            return unstarted(execution.stop_reason, execution.route.timeout)
        child = self._child(execution)
        execution.child = child
        try:
            child.adopt(self.pool.take().prespawned(child.spec))
            return await child.run()
        except OSError as exc:
            return RunResult("failed", None, _error("SpawnError", str(exc)), None, False)

    def _child(self, execution: Execution) -> EngineChild:
        route = execution.route
        payload = dict(route.resolved)
        payload["inputs"] = execution.inputs
        payload["trigger"] = execution.trigger
        spec = spec_for_run(
            payload, route.file, self.pool.python, execution.id, route.secrets, MODE
        )
        execution_id = execution.id

        async def on_event(event: dict[str, Any]) -> None:
            if event.get("event") == "node_finished":
                execution.nodes[str(event.get("node"))] = {
                    "output": event.get("output"),
                    "status": event.get("status"),
                }
                if self._observe is not None:
                    self._observe("node_finished", execution, event, 0.0)
            await self.store.record_event(execution_id, event)

        async def on_started(pid: int) -> None:
            await self.store.set_process(execution_id, pgid=pid)

        return EngineChild(spec, on_event=on_event, on_started=on_started, grace=self.grace)

    async def _finish(self, execution: Execution, result: RunResult) -> None:
        try:
            await self.store.finish(
                execution.id, status=result.status, outputs=result.outputs, error=result.error
            )
        except Exception:
            log.exception("could not record the end of execution %s", execution.id)
        if self.tracing is not None:  # not on the answer's path (`respond: wait`)
            task = asyncio.create_task(self.tracing.export(self.store, execution.id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # -- stopping -----------------------------------------------------------------------

    async def stop(self, execution: Execution, reason: str = "stopped") -> None:
        if execution.stop_reason is None:
            execution.stop_reason = reason
        if execution.child is not None:
            await execution.child.stop(reason)

    def started(self) -> list[Execution]:
        return [e for e in self.executions.values() if e.child is not None]

    async def wait_running(self, deadline: float) -> None:
        """Until every started execution ended, or `deadline` (loop time)."""
        loop = asyncio.get_running_loop()
        while self.started() and loop.time() < deadline:
            pending = [e.done for e in self.started()]
            # asyncio.wait, not wait_for(gather): a timeout must not cancel the futures
            await asyncio.wait(pending, timeout=deadline - loop.time())

    async def stop_all(self) -> None:
        """Stop the started executions (their whole process groups); they are recorded
        `stopped`. Queued ones stay `queued`: the next start runs them."""
        started = self.started()
        await asyncio.gather(*(self.stop(e) for e in started), return_exceptions=True)
        if started:
            await asyncio.wait([e.done for e in started])
        for task in list(self._tasks):  # the queued ones, waiting for a slot
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.store.flush()

    # -- restart ------------------------------------------------------------------------

    async def recover(self, routes_by_file: dict[str, Route]) -> tuple[list[str], list[str]]:
        """(re-run ids, interrupted ids): after a crash, run what was queued, mark
        `interrupted` what was running."""
        interrupted = await self.store.mark_interrupted()
        queued = await self.store.list_executions(status="queued", mode=MODE, limit=1_000_000)
        rerun: list[str] = []
        for summary in reversed(queued):  # oldest first
            execution_id = summary["id"]
            owner, _pgid = await self.store.process_of(execution_id)
            if owner is not None and owner != os.getpid() and _alive(owner):
                continue  # another server's queue
            if not await self.store.claim(execution_id):
                continue
            tree = await self.store.execution_tree(execution_id)
            route = routes_by_file.get(str(tree["file"]))
            if route is None:
                error = _error("NotServed", "Its workflow is no longer served.")
                await self.store.finish(
                    execution_id, status="interrupted", outputs=None, error=error
                )
                interrupted.append(execution_id)
                continue
            execution = self._new(execution_id, route, tree["trigger"] or {}, tree["inputs"] or {})
            self.waiting += 1
            self._start(execution)
            rerun.append(execution_id)
        return rerun, interrupted


def _alive(pid: int) -> bool:
    from flowrun.runs.process_groups import pid_alive

    return bool(pid_alive(pid))


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": kind, "message": message}


def unstarted(reason: str, timeout: float) -> RunResult:
    if reason == "timed_out":
        message = f"The execution did not finish within trigger.timeout ({timeout:g}s)."
        return RunResult("timed_out", None, _error("TimedOut", message), None, False)
    return RunResult("stopped", None, _error("Stopped", "Stopped before it started."), None, False)
