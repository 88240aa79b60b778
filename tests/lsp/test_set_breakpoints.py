"""`flowrun/setBreakpoints` over the real language server (issue 17): the editor's
breakpoints replaced while an execution runs take effect before its next node starts (a new
one pauses there, a removed one no more); a finished execution answers `applied: false`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsp.harness import Session
from lsp.test_bad_requests import invalid
from lsp.test_execute import start
from lsp.test_pause_resume import HELD, finished, started
from lsp.workflows import write

# HELD (`hold` waits for the file `go`, then `after`) and one more node
LATER = HELD.replace(
    "outputs:",
    "  - id: last\n    type: transform\n    needs: [after]\n    with: {value: 1}\noutputs:",
)


async def run_changing(
    session: Session, workspace: Path, first: list[Any], then: list[Any]
) -> tuple[str, dict[str, Any]]:
    """Runs LATER with the breakpoints `first`; `then` replaces them while `hold` runs: its id
    and its `execution_finished`."""
    (workspace / "go").unlink(missing_ok=True)
    uri = session.uri("later.workflow.yml")
    run = await session.request("flowrun/execute", {"uri": uri, "breakpoints": first})
    execution_id = run["executionId"]
    await session.events.wait_for(
        lambda p: p["executionId"] == execution_id and p["event"]["event"] == "node_started"
    )
    answer = await session.request(
        "flowrun/setBreakpoints", {"executionId": execution_id[:8], "breakpoints": then}
    )
    assert answer == {"applied": True}
    (workspace / "go").touch()
    return execution_id, await finished(session, execution_id)


async def test_breakpoints_set_and_removed_while_it_runs(workspace: Path) -> None:
    write(workspace, "later.workflow.yml", LATER)
    session = await start(workspace)
    try:
        execution_id, end = await run_changing(session, workspace, [], [{"nodeId": "last"}])
        assert end["status"] == "paused" and end["error"]["pausedAt"] == ["last"]
        assert started(session, "after") == 1 and started(session, "last") == 0
        ended = {"executionId": execution_id, "breakpoints": []}
        assert await session.request("flowrun/setBreakpoints", ended) == {"applied": False}

        execution_id, end = await run_changing(session, workspace, [{"nodeId": "after"}], [])
        assert end["status"] == "succeeded" and started(session, "last") == 1

        bad = {"executionId": execution_id, "breakpoints": [{"condition": "x"}]}
        message = await invalid(session, "flowrun/setBreakpoints", bad)
        assert message.startswith("Invalid params: breakpoints.0.nodeId:")
        message = await invalid(session, "flowrun/setBreakpoints", {"breakpoints": []})
        assert message.startswith("Invalid params: executionId:")
    finally:
        await session.stop()
