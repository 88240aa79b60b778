"""One delivered execution on a worker, exactly as the local supervisor runs it: claimed in the
history, prepared here (validation, the worker's interpreter and its `requires`, secrets from
the worker's environment), one engine child in its own process group, events into the shared
history, its end recorded. The engine child is a warm one (`runs.warm`) when it can be.

The history may be away (PostgreSQL restarting): opening it, claiming the delivery and
recording the end are tried again with backoff (`patiently`) for as long as the worker runs;
nothing of the delivery is acknowledged meanwhile, so nothing accepted is lost."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from flowrun.history.location import HistoryUnreachable
from flowrun.history.store import HistoryStore
from flowrun.queue.control import new_delivery, stop_asked, stoppable
from flowrun.queue.message import Delivery
from flowrun.queue.takeover import Holding
from flowrun.runs.errors import FlowrunError
from flowrun.runs.launch import spec_for_run
from flowrun.runs.outcome import RunResult
from flowrun.runs.prepare import prepare
from flowrun.runs.supervisor import EngineChild
from flowrun.runs.warm import WarmChildren
from flowrun.runs.workflow_secrets import required_secrets

GRACE = 3.0
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)  # seconds between two tries, then 30 s each
T = TypeVar("T")
log = logging.getLogger(__name__)


class Deliveries:
    """What a worker's pool process keeps from one delivery to the next: its event loop and
    its open history (a connection pool) and its warm engine children, so a delivery does
    not pay for opening them."""

    def __init__(self, db: str | Path, worker: str, python: str | None) -> None:
        self.db, self.worker, self.python = db, worker, python
        self.loop = asyncio.new_event_loop()
        self.store: HistoryStore | None = None
        self.warm = WarmChildren(1)

    def run(self, delivery: Delivery, trouble: threading.Event | None = None) -> str:
        """`trouble`: set by the delivery's lease (`takeover`)."""
        return self.loop.run_until_complete(self._run(delivery, trouble))

    async def _run(self, delivery: Delivery, trouble: threading.Event | None) -> str:
        new_delivery()
        if self.store is None:
            self.store = await patiently(lambda: HistoryStore.open(self.db))
        return await run_delivery(
            delivery, self.store, worker=self.worker, python=self.python, warm=self.warm,
            trouble=trouble,
        )  # fmt: skip

    def close(self) -> None:
        self.warm.close()
        if self.store is not None:
            self.loop.run_until_complete(self.store.close())
            self.store = None
        self.loop.close()


async def run_delivery(
    delivery: Delivery,
    store: HistoryStore,
    *,
    worker: str,
    python: str | None,
    warm: WarmChildren | None = None,
    trouble: threading.Event | None = None,
) -> str:
    """Run it (or not: already ended, or it opted out of redelivery); its final status. Taken
    over by a later delivery meanwhile (`takeover`): its attempt's row records the end."""
    execution_id = delivery["execution_id"]
    redeliver = _redeliver(delivery)
    claimed = await patiently(
        lambda: store.claim_delivery(execution_id, worker=worker, redeliver=redeliver)
    )
    if claimed != "run":
        return str(await patiently(lambda: store.status_of(execution_id)) or claimed)
    attempt = await patiently(lambda: store.attempt_of(execution_id))
    holding = Holding(store, execution_id, attempt, trouble)
    result = await _run(store, delivery, python, warm, holding)
    if await holding.held(ask=True):
        await patiently(
            lambda: store.finish(
                execution_id, status=result.status, outputs=result.outputs, error=result.error
            )
        )
    elif attempt is not None:
        log.warning("execution %s was taken over by a later delivery", execution_id)
        await patiently(
            lambda: store.end_attempt(
                execution_id, attempt, status=result.status, error=result.error
            )
        )
    return result.status


class Abandoned(Exception):
    """The worker is ending while the history is unreachable: the delivery goes back to the
    queue unacknowledged (at-least-once), for whichever worker takes it next."""


async def patiently(work: Callable[[], Awaitable[T]]) -> T:
    """`work()`, tried again with backoff while the history cannot be reached (until the
    worker's grace is over: `Abandoned`)."""
    for attempt in range(1_000_000):
        try:
            return await work()
        except HistoryUnreachable as exc:
            if stop_asked():
                raise Abandoned(exc.message) from None
            pause = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            log.warning("%s; trying again in %g s", exc.message, pause)
            for _second in range(int(pause)):
                if stop_asked():
                    break
                await asyncio.sleep(1.0)
    raise AssertionError("unreachable")


async def _run(
    store: HistoryStore,
    delivery: Delivery,
    python: str | None,
    warm: WarmChildren | None,
    holding: Holding,
) -> RunResult:
    execution_id = delivery["execution_id"]
    path = Path(delivery["file"])
    try:
        prepared = await prepare(
            path, delivery["text"], python, False, delivery["inputs"], delivery["trigger"]
        )
    except FlowrunError as exc:
        return RunResult("failed", None, exc.error, None, False)
    resolved = prepared.resolved
    if delivery["timeout"] is not None:
        resolved.setdefault("options", {})["timeout"] = float(delivery["timeout"])
    if not path.parent.is_dir():  # the worker has no copy of the submitter's folder
        resolved.setdefault("options", {})["cwd"] = str(Path.cwd())
    python_path = prepared.info.executable or prepared.info.path
    secrets = required_secrets(resolved, path)
    spec = spec_for_run(resolved, path, python_path, execution_id, secrets, delivery["mode"])

    async def on_event(event: dict[str, Any]) -> None:
        if await holding.held(ask=event.get("event") == "execution_finished"):
            await store.record_event(execution_id, event)

    async def on_started(pid: int) -> None:
        if await holding.held():
            await store.set_process(execution_id, pgid=pid)

    child = EngineChild(spec, on_event=on_event, on_started=on_started, grace=GRACE)
    early = None if warm is None else warm.take(spec)
    if early is not None:
        child.adopt(early)
    loop = asyncio.get_running_loop()

    def on_stop(reason: str) -> None:  # a signal handler: hand it to the loop
        loop.call_soon_threadsafe(lambda: loop.create_task(child.stop(reason)))

    try:
        with stoppable(on_stop):
            return await child.run()
    except OSError as exc:
        error = {"type": "SpawnError", "message": f"{exc}", "t": time.time()}
        return RunResult("failed", None, error, None, False)


def _redeliver(delivery: Delivery) -> bool:
    from flowrun.spec.loader import load_data

    data = load_data(delivery["text"])
    trigger = data.get("trigger") if isinstance(data, dict) else None
    return not (isinstance(trigger, dict) and trigger.get("redeliver") is False)
