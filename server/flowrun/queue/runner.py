"""One delivered execution on a worker, exactly as the local supervisor runs it: claimed in the
history, prepared here (validation, the worker's interpreter and its `requires`, secrets from
the worker's environment), one engine child in its own process group, events into the shared
history, its end recorded."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flowrun.history.store import HistoryStore
from flowrun.queue.message import Delivery
from flowrun.runs.errors import FlowrunError
from flowrun.runs.launch import spec_for_run
from flowrun.runs.outcome import RunResult
from flowrun.runs.prepare import prepare
from flowrun.runs.supervisor import EngineChild
from flowrun.runs.workflow_secrets import required_secrets

GRACE = 3.0


async def run_delivery(
    delivery: Delivery, *, db: str | Path, worker: str, python: str | None
) -> str:
    """Run it (or not: already ended, or it opted out of redelivery); its final status."""
    store = await HistoryStore.open(db)
    try:
        execution_id = delivery["execution_id"]
        redeliver = _redeliver(delivery)
        claimed = await store.claim_delivery(execution_id, worker=worker, redeliver=redeliver)
        if claimed != "run":
            return str(await store.status_of(execution_id) or claimed)
        result = await _run(store, delivery, python)
        await store.finish(
            execution_id, status=result.status, outputs=result.outputs, error=result.error
        )
        return result.status
    finally:
        await store.close()


async def _run(store: HistoryStore, delivery: Delivery, python: str | None) -> RunResult:
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
        await store.record_event(execution_id, event)

    async def on_started(pid: int) -> None:
        await store.set_process(execution_id, pgid=pid)

    child = EngineChild(spec, on_event=on_event, on_started=on_started, grace=GRACE)
    try:
        return await child.run()
    except OSError as exc:
        error = {"type": "SpawnError", "message": f"{exc}", "t": time.time()}
        return RunResult("failed", None, error, None, False)


def _redeliver(delivery: Delivery) -> bool:
    from flowrun.spec.loader import load_data

    data = load_data(delivery["text"])
    trigger = data.get("trigger") if isinstance(data, dict) else None
    return not (isinstance(trigger, dict) and trigger.get("redeliver") is False)
