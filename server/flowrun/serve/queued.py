"""`flowrun serve --queue URL --db URL`: accepted requests become queue tasks (run by `flowrun
worker`s) instead of local children. Admission, the `queued` record and the slots are the
`Dispatcher`'s; `respond: wait` waits for the execution's end through the shared history, not
a Celery result backend. A timeout (of `respond: wait`) or a stop goes to the worker that
holds the execution, which records it `timed_out` or `stopped`. The delivery carries no
timeout: as in local mode, the engine's own is the workflow's `options.timeout`."""

from __future__ import annotations

import asyncio
from typing import Any

from flowrun.queue.app import TASK
from flowrun.queue.control import stop_anywhere
from flowrun.queue.message import Delivery
from flowrun.runs.outcome import RunResult
from flowrun.serve.dispatch import MODE, Dispatcher, Execution, unstarted
from flowrun.status import ACTIVE_VALUES

POLL = 0.1  # seconds between two looks at the history


class QueueDispatcher(Dispatcher):
    def __init__(self, *args: Any, app: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = app
        self.sent: set[str] = set()  # executions handed to the queue, not yet ended

    async def _in_slot(self, execution: Execution) -> RunResult:
        execution.started_at = asyncio.get_running_loop().time()
        if execution.stop_reason is not None:  # stopped (timed out) before it was sent
            result = unstarted(execution.stop_reason, execution.route.timeout)
            await self._finish(execution, result)
            return result
        route = execution.route
        delivery: Delivery = {
            "execution_id": execution.id, "file": str(route.file),
            "text": route.file.read_text(encoding="utf-8"), "inputs": execution.inputs,
            "trigger": execution.trigger, "mode": MODE, "timeout": None,
        }  # fmt: skip
        await asyncio.to_thread(self.app.send_task, TASK, args=[delivery], task_id=execution.id)
        self.sent.add(execution.id)
        try:
            return await self._ended(execution)
        finally:
            self.sent.discard(execution.id)

    async def _ended(self, execution: Execution) -> RunResult:
        """Follow the history until a worker recorded the end."""
        while True:
            status = await self.store.status_of(execution.id)
            if status is not None and status not in ACTIVE_VALUES:
                break
            await asyncio.sleep(POLL)
        tree = await self.store.execution_tree(execution.id)
        for child in tree["children"]:
            if child.get("kind") == "node":
                execution.nodes[str(child["id"])] = {
                    "output": child.get("output"), "status": child.get("status")
                }  # fmt: skip
        return RunResult(status, tree.get("outputs"), tree.get("error"), None, True)

    async def stop(self, execution: Execution, reason: str = "stopped") -> None:
        if execution.stop_reason is None:
            execution.stop_reason = reason
        if execution.id in self.sent:
            error = unstarted(reason, execution.route.timeout).error
            await stop_anywhere(self.app, self.store, execution.id, reason, error)

    def started(self) -> list[Execution]:
        return [e for e in self.executions.values() if e.id in self.sent]

    async def recover(self, routes_by_file: dict[str, Any]) -> tuple[list[str], list[str]]:
        """Queued executions are the queue's (the broker still holds their tasks): nothing to
        run again here."""
        return [], await self.store.mark_interrupted()

    async def stop_all(self) -> None:
        """The server goes away; the executions on the workers go on (the history records
        their ends). Only the waiting is given up."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.store.flush()
