"""`flowrun/pause` and `flowrun/resume` over the real language server (issue 17): a run asked
to pause lets its running node finish and ends `paused`; the server is SIGKILLed while the
execution is paused and a new one resumes it from the history alone; breakpoints and pause
on failure come with `flowrun/execute`, and a resume runs the open document's text (edit
and continue). Node runs are counted by `node_started` events over every execution."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from lsp.harness import Session
from lsp.test_bad_requests import invalid
from lsp.test_execute import SETTINGS, history, start
from lsp.workflows import write

# `hold` waits for the test to create `go` (no sleeps to time): the pause is asked while it runs
HELD = """\
version: 1
nodes:
  - id: hold
    type: shell
    timeout: 120
    with:
      run: "while [ ! -f go ]; do sleep 0.05; done; echo held"
  - id: after
    type: transform
    needs: [hold]
    with: {value: "after ${{ nodes.hold.output.stdout }}"}
outputs:
  said: ${{ nodes.after.output }}
"""

FAILING = """\
version: 1
nodes:
  - id: one
    type: transform
    with: {value: 1}
  - id: two
    type: python
    needs: [one]
    with:
      args: {n: "${{ nodes.one.output }}"}
      code: |
        def main(n):
            BODY
outputs:
  two: ${{ nodes.two.output }}
"""


def started(session: Session, node: str) -> int:
    """How many times `node` started, over every execution this session saw."""
    return sum(
        1
        for p in session.events.items
        if p["event"]["event"] == "node_started" and p["event"]["node"] == node
    )


async def finished(session: Session, execution_id: str) -> dict[str, Any]:
    events = await session.events_of(execution_id)
    return events[-1]


async def test_pause_on_request_survives_a_sigkilled_server(workspace: Path) -> None:
    write(workspace, "held.workflow.yml", HELD)
    session = await start(workspace)
    try:
        uri = session.uri("held.workflow.yml")
        execution_id = (await session.request("flowrun/execute", {"uri": uri}))["executionId"]
        await session.events.wait_for(
            lambda p: p["executionId"] == execution_id and p["event"]["event"] == "node_started"
        )
        answer = await session.request("flowrun/pause", {"executionId": execution_id[:8]})
        assert answer == {"paused": True}
        (workspace / "go").touch()  # the running node finishes: its output is checkpointed
        end = await finished(session, execution_id)
        assert end["status"] == "paused"
        assert end["error"]["reason"] == "request" and end["error"]["pausedAt"] == ["after"]
        tree = await session.request("flowrun/execution", {"executionId": execution_id})
        assert [(n["id"], n["status"]) for n in tree["children"]] == [
            ("hold", "succeeded"),
            ("after", "pending"),
        ]
        assert await session.request("flowrun/pause", {"executionId": execution_id}) == {
            "paused": False
        }
    finally:
        os.kill(session.pid, signal.SIGKILL)  # the daemon dies while the execution is paused
        await session.client.stop()

    (workspace / "go").unlink()  # were `hold` to run again, it would wait until the timeout
    session = await start(workspace)
    try:
        [summary] = await history(session)
        assert summary["status"] == "paused"  # not `interrupted`: nothing of it was running
        result = await session.request("flowrun/resume", {"executionId": execution_id})
        assert result["changed"] == []
        end = await finished(session, result["executionId"])
        assert end["status"] == "succeeded" and end["outputs"] == {"said": "after held"}
        assert started(session, "hold") == 0 and started(session, "after") == 1
        tree = await session.request("flowrun/execution", {"executionId": result["executionId"]})
        assert tree["parentExecutionId"] == execution_id
        assert {n["id"]: n["given"] for n in tree["children"]} == {"hold": True, "after": False}
    finally:
        await session.stop()


async def test_breakpoint_and_pause_on_failure_then_edit_and_continue(workspace: Path) -> None:
    write(workspace, "fail.workflow.yml", FAILING.replace("BODY", "raise ValueError('two')"))
    session = await start(workspace)
    try:
        uri = session.open("fail.workflow.yml")
        broke = await session.request("flowrun/execute", {"uri": uri, "breakBefore": ["two"]})
        end = await finished(session, broke["executionId"])
        assert end["status"] == "paused" and end["error"]["pausedAt"] == ["two"]
        assert started(session, "two") == 0

        # continue from the breakpoint with pause on failure: `two` fails, the run pauses
        resumed = await session.request(
            "flowrun/resume", {"executionId": broke["executionId"], "pauseOnFailure": True}
        )
        end = await finished(session, resumed["executionId"])
        assert end["status"] == "paused" and end["error"]["reason"] == "failure"

        # fix the open (unsaved) document and resume the failed run: `two` runs with the fix
        fixed = FAILING.replace("BODY", "return n + 41")
        session.replace("fail.workflow.yml", fixed, version=2)
        last = await session.request("flowrun/resume", {"executionId": resumed["executionId"]})
        end = await finished(session, last["executionId"])
        assert end["status"] == "succeeded" and end["outputs"] == {"two": 42}
        assert started(session, "one") == 1 and started(session, "two") == 2

        with pytest.raises(JsonRpcException) as refused:
            await session.request("flowrun/resume", {"executionId": last["executionId"]})
        assert "not paused" in str(refused.value.message)
        message = await invalid(session, "flowrun/resume", {"executionId": "nope"})
        assert message.startswith("executionId: No execution")
        message = await invalid(session, "flowrun/execute", {"uri": uri, "breakBefore": "two"})
        assert "breakBefore" in message
    finally:
        await session.stop()


async def test_the_pause_on_failure_setting_pauses_every_run(workspace: Path) -> None:
    write(workspace, "fail.workflow.yml", FAILING.replace("BODY", "raise ValueError('two')"))
    session = await start(workspace, settings={**SETTINGS, "pauseOnFailure": True})
    try:
        uri = session.uri("fail.workflow.yml")
        run = await session.request("flowrun/execute", {"uri": uri})
        end = await finished(session, run["executionId"])
        assert end["status"] == "paused" and end["error"]["pausedAt"] == ["two"]
    finally:
        await session.stop()
