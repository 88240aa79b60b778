"""An execution delivered again while its first delivery still runs (Redis was away for longer
than the visibility timeout, so the first worker's lease lapsed): the history keeps both
attempts, each with how it really ended, and the execution's rows are the later attempt's.

Real PostgreSQL and engine children; the second delivery is made here, as the broker makes it
after the timeout (the outage itself is tests/queue/test_broker_outage.py)."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from fleet import query
from flowrun.history.store import HistoryStore
from flowrun.queue.message import Delivery
from flowrun.queue.runner import run_delivery
from flowrun.runs.launch import new_execution_id

WORKFLOW = """\
version: 1
id: twice
nodes:
  - id: nap
    type: shell
    with: {run: sleep 2}
  - id: who
    type: shell
    needs: [nap]
    with: {run: echo $$}
outputs:
  pid: ${{ nodes.who.output.stdout }}
"""


@pytest.mark.parametrize("lease_trouble", [True, False])
async def test_a_later_delivery_takes_over_and_both_attempts_are_recorded(
    tmp_path: Path, db: str, lease_trouble: bool
) -> None:
    """With lease trouble (Redis was away) the first attempt writes nothing once taken over;
    without (a task sent twice) it stops within a second (`takeover.RECHECK`); either way its
    end does not overwrite the later attempt's."""
    path = tmp_path / "twice.workflow.yml"
    path.write_text(WORKFLOW)
    first_store, second_store = await HistoryStore.open(db), await HistoryStore.open(db)
    execution_id = new_execution_id()
    await first_store.create_execution(
        execution_id=execution_id, workflow_id="twice", file=str(path), trigger=None,
        inputs={}, status="queued", mode="batch",
    )  # fmt: skip
    delivery: Delivery = {
        "execution_id": execution_id, "file": str(path), "text": WORKFLOW, "inputs": {},
        "trigger": None, "mode": "batch", "timeout": None,
    }  # fmt: skip
    trouble = threading.Event()
    if lease_trouble:
        trouble.set()  # its lease could not be renewed: Redis was away
    try:
        first = asyncio.create_task(
            run_delivery(delivery, first_store, worker="a@test", python=None, trouble=trouble)
        )
        while await second_store.status_of(execution_id) != "running":
            await asyncio.sleep(0.05)
        second = await run_delivery(delivery, second_store, worker="b@test", python=None)
        assert await first == "succeeded" and second == "succeeded"
    finally:
        await first_store.close()
        await second_store.close()
    ((status, attempt, worker, outputs),) = query(
        db, f"SELECT status, attempt, worker, outputs FROM executions WHERE id = '{execution_id}'"
    )
    assert (status, attempt, worker) == ("succeeded", 2, "b@test")
    nodes = query(db, f"SELECT node_id, status, output FROM node_executions "
                      f"WHERE execution_id = '{execution_id}' ORDER BY node_id")  # fmt: skip
    assert [row[:2] for row in nodes] == [("nap", "succeeded"), ("who", "succeeded")]
    pid = json.loads(str(nodes[1][2]))["stdout"]  # the later attempt's `who` ends last
    assert json.loads(str(outputs)) == {"pid": pid}  # the execution's end is its own attempt's
    attempts = query(db, "SELECT attempt, worker, status, error, finished_at IS NOT NULL "
                         "FROM execution_attempts")  # fmt: skip
    assert attempts == [(1, "a@test", "succeeded", None, True)]  # how it really ended


async def test_without_lease_trouble_the_history_is_asked_once_a_recheck(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task sent twice: no lease trouble tells the first delivery, its next question after
    `RECHECK` does (and only the end asks before that)."""
    from flowrun.queue import takeover

    store = await HistoryStore.open(tmp_path / "history.sqlite3")
    try:
        await store.create_execution(
            execution_id="e", workflow_id="wf", file="/f", trigger=None, inputs=None,
            status="queued", mode="batch",
        )  # fmt: skip
        assert await store.claim_delivery("e", worker="a", redeliver=True) == "run"
        monkeypatch.setattr(takeover, "RECHECK", 3600.0)
        waiting = takeover.Holding(store, "e", 1, None)
        monkeypatch.setattr(takeover, "RECHECK", 0.0)
        due = takeover.Holding(store, "e", 1, None)
        assert await store.claim_delivery("e", worker="b", redeliver=True) == "run"  # attempt 2
        assert await waiting.held()  # not asked: no recheck due yet
        assert not await waiting.held(ask=True) and waiting.taken_over
        assert await due.held()  # an event never waits for the answer: asked meanwhile
        while due._rechecking is not None:
            await asyncio.sleep(0.01)
        assert due.taken_over and not await due.held()
    finally:
        await store.close()
