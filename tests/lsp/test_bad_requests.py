"""Every request gets an answer: bad params are -32602 naming the field (issue 12.7, 12.13),
and "Run from here" runs with what the execution it starts from saw (issue 11.3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from lsp.harness import Session
from lsp.test_execute import start
from lsp.workflows import NODES, QUICK, write

DOC = {"uri": "file:///nowhere/a.workflow.yml"}


async def invalid(session: Session, method: str, params: Any) -> str:
    """The message of the -32602 error `method` is answered with."""
    with pytest.raises(JsonRpcInvalidParams) as caught:
        await session.raw_request(method, params)
    return str(caught.value.message)


async def test_malformed_standard_requests_are_answered(workspace: Path, session: Session) -> None:
    write(workspace, "a.workflow.yml", NODES)
    doc = {"uri": session.uri("a.workflow.yml")}
    at = {"textDocument": doc, "position": {"line": -1, "character": 0}}
    assert "params.position" in await invalid(session, "textDocument/hover", at)
    at = {"textDocument": doc, "position": {"line": "x", "character": 0}}
    assert "params.position.line" in await invalid(session, "textDocument/definition", at)
    assert "params.textDocument" in await invalid(session, "textDocument/documentSymbol", {})
    at = {"textDocument": doc, "position": {"line": 500, "character": 0}}
    assert "params.position.line" in await invalid(session, "textDocument/completion", at)
    assert "params.position.line" in await invalid(session, "textDocument/hover", at)


async def test_execute_refuses_what_is_not_a_workflow_of_the_workspace(
    workspace: Path, tmp_path: Path
) -> None:
    write(workspace, "README.md", "# hi\n")
    outside = write(tmp_path / "elsewhere", "out.workflow.yml", QUICK)
    session = await start(workspace)
    try:
        for uri, says in [
            ("file:a.workflow.yml", "absolute"),
            (outside.as_uri(), "outside the workspace"),
            (session.uri("README.md"), "not a workflow file"),
        ]:
            message = await invalid(session, "flowrun/execute", {"uri": uri})
            assert message.startswith("uri: ") and says in message
        session.open("missing/new.workflow.yml", QUICK)  # unsaved, its folder does not exist
        message = await invalid(
            session, "flowrun/execute", {"uri": session.uri("missing/new.workflow.yml")}
        )
        assert message.startswith("uri: ") and "does not exist" in message
    finally:
        await session.stop()


GREET = """\
version: 1
inputs:
  who: {type: string, default: world}
nodes:
  - {id: first, type: transform, with: {value: "first saw ${{ inputs.who }}"}}
  - id: second
    type: transform
    needs: [first]
    with: {value: "${{ nodes.first.output }} / second saw ${{ inputs.who }}"}
outputs:
  said: ${{ nodes.second.output }}
"""


async def test_run_from_here_takes_the_inputs_of_the_execution_it_starts_from(
    workspace: Path,
) -> None:
    write(workspace, "greet.workflow.yml", GREET)
    session = await start(workspace)
    try:
        uri = session.uri("greet.workflow.yml")
        first = await session.request("flowrun/execute", {"uri": uri, "inputs": {"who": "Ada"}})
        await session.events_of(first["executionId"])
        again = await session.request(
            "flowrun/execute",
            {"uri": uri, "fromExecution": first["executionId"], "fromNode": "second"},
        )
        events = await session.events_of(again["executionId"])
        assert events[-1]["outputs"] == {"said": "first saw Ada / second saw Ada"}
        message = await invalid(session, "flowrun/execute", {"uri": uri, "fromNode": "nosuch"})
        assert message.startswith("fromNode: ") and "nosuch" in message
        explicit = await session.request(
            "flowrun/execute", {"uri": uri, "fromNode": "second", "inputs": {"who": "Bob"}}
        )
        events = await session.events_of(explicit["executionId"])
        assert events[-1]["outputs"] == {"said": "first saw Ada / second saw Bob"}
    finally:
        await session.stop()
