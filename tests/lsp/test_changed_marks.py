"""The Executions view's "changed" marker over the real language server (issue 17):
`flowrun/history` gives the file's last successful execution `changedNodes`, the nodes whose
definition differs from the file's as edited now (a node's hash covers the nodes it uses);
an edit that changes that list sends `flowrun/executionsChanged`; a newer success takes the
marker over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsp.harness import Session
from lsp.test_execute import start
from lsp.test_pause_resume import finished
from lsp.workflows import write

FLOW = """\
version: 1
id: marks-flow
nodes:
  - {id: fetch, type: transform, with: {value: 1}}
  - {id: use, type: transform, needs: [fetch], with: {value: "${{ nodes.fetch.output }}"}}
  - {id: side, type: transform, with: {value: side}}
"""
NAME = "marks.workflow.yml"


async def run(session: Session, uri: str) -> str:
    answer = await session.request("flowrun/execute", {"uri": uri})
    assert (await finished(session, answer["executionId"]))["status"] == "succeeded"
    return str(answer["executionId"])


async def summaries(session: Session, uri: str) -> dict[str, dict[str, Any]]:
    listed = (await session.request("flowrun/history", {"uri": uri}))["executions"]
    return {summary["id"]: summary for summary in listed}


async def marks_after_notice(session: Session, uri: str, mark: int, execution_id: str) -> Any:
    """`changedNodes` of the execution once a `flowrun/executionsChanged` from `mark` on
    says to ask again."""
    await session.changed.wait_for(lambda _: True, since=mark)
    return (await summaries(session, uri))[execution_id].get("changedNodes")


async def test_the_last_success_marks_the_nodes_changed_since(workspace: Path) -> None:
    write(workspace, NAME, FLOW)
    session = await start(workspace)
    try:
        uri = session.open(NAME)
        first = await run(session, uri)
        assert (await summaries(session, uri))[first]["changedNodes"] == []

        mark = session.changed.mark()
        session.replace(NAME, FLOW.replace("value: side", "value: other"), version=2)
        got = await marks_after_notice(session, uri, mark, first)
        while got != ["side"]:  # a notice of the run's end came first
            mark = session.changed.mark()
            got = await marks_after_notice(session, uri, mark, first)

        mark = session.changed.mark()  # an upstream edit: its user changed too
        edited = FLOW.replace("value: side", "value: other").replace("value: 1", "value: 2")
        session.replace(NAME, edited, version=3)
        assert await marks_after_notice(session, uri, mark, first) == ["fetch", "use", "side"]

        second = await run(session, uri)  # the new last success: nothing changed since
        listed = await summaries(session, uri)
        assert listed[second]["changedNodes"] == [] and "changedNodes" not in listed[first]
    finally:
        await session.stop()
