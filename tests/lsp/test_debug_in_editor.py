"""Debug in Editor (issue 14): a production execution is listed with its mode, can be filtered
by mode, and re-runs in test mode with its own request when `flowrun/execute` names it."""

from __future__ import annotations

import sys
from pathlib import Path

from flowrun.history.location import history_location
from flowrun.history.store import HistoryStore
from flowrun.runs.service import RunService
from lsp.test_bad_requests import invalid
from lsp.test_execute import history, start
from lsp.workflows import write

HOOK = """\
version: 1
trigger:
  type: http
  method: POST
  path: /orders
  sample: {method: POST, path: /orders, body: {order: sample}}
nodes:
  - id: seen
    type: transform
    with: {value: "${{ trigger.body.order }}"}
  - id: mode
    type: shell
    with: {run: 'printf %s "$FLOWRUN_EXECUTION_MODE"'}
outputs:
  order: ${{ nodes.seen.output }}
  mode: ${{ nodes.mode.output.stdout }}
"""

REQUEST = {"method": "POST", "path": "/orders", "headers": {}, "query": {}, "body": {"order": 42}}


async def record_production_run(workspace: Path) -> str:
    """What `flowrun serve` records for one request: a production execution with its trigger."""
    store = await HistoryStore.open(history_location(workspace))
    try:
        service = RunService(store, python=sys.executable, mode="production")
        execution_id = await service.execute(workspace / "hook.workflow.yml", trigger=REQUEST)
        assert await service.wait(execution_id) == "succeeded"
        await service.shutdown()
    finally:
        await store.close()
    return execution_id


async def test_a_production_execution_re_runs_in_test_mode_with_its_request(
    workspace: Path,
) -> None:
    write(workspace, "hook.workflow.yml", HOOK)
    production = await record_production_run(workspace)
    session = await start(workspace)
    try:
        uri = session.uri("hook.workflow.yml")
        sample = await session.request("flowrun/execute", {"uri": uri})
        await session.events_of(sample["executionId"])
        listed = {e["id"]: e["mode"] for e in await history(session)}
        assert listed == {production: "production", sample["executionId"]: "test"}
        assert [e["id"] for e in await history(session, mode="production")] == [production]
        assert [e["id"] for e in await history(session, mode="test")] == [sample["executionId"]]
        assert await history(session, mode="batch") == []
        message = await invalid(session, "flowrun/history", {"mode": "prod"})
        assert message.startswith("Invalid params: mode: ")

        debug = await session.request(
            "flowrun/execute", {"uri": uri, "fromExecution": production[:10]}
        )
        events = await session.events_of(debug["executionId"])
        assert events[-1]["status"] == "succeeded"
        assert events[-1]["outputs"] == {"order": 42, "mode": "test"}
        assert not any(e.get("given") for e in events)  # everything ran again
        tree = await session.request("flowrun/execution", {"executionId": debug["executionId"]})
        assert tree["mode"] == "test" and tree["trigger"]["body"] == {"order": 42}
    finally:
        await session.stop()
