"""CodeLens: ▶ Run Test and ⏵ Debug above the workflow, ▶ Run from here above each node."""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types

from lsp.harness import Session
from lsp.test_execute import pids_of, start
from lsp.test_symbols import rng
from lsp.workflows import NODES, STAGES, long_running, write


async def lenses(session: Session, name: str) -> list[types.CodeLens]:
    result = await session.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=session.uri(name)))
    )
    return list(result or [])


def lens(line: int, title: str, command: str, argument: dict) -> types.CodeLens:
    return types.CodeLens(
        range=rng(line, 0, line, 0),
        command=types.Command(title=title, command=command, arguments=(argument,)),
    )


async def test_lenses_of_a_workflow(workspace: Path, session: Session) -> None:
    assert session.result.capabilities.code_lens_provider is not None
    write(workspace, "a.workflow.yml", NODES)
    uri = session.uri("a.workflow.yml")
    assert await lenses(session, "a.workflow.yml") == [
        lens(4, "▶ Run Test", "flowrun.runTest", {"uri": uri}),
        lens(4, "⏵ Debug", "flowrun.debugWorkflow", {"uri": uri}),
        lens(5, "▶ Run from here", "flowrun.runFromNode", {"uri": uri, "fromNode": "fetch"}),
        lens(9, "▶ Run from here", "flowrun.runFromNode", {"uri": uri, "fromNode": "summarize"}),
    ]


async def test_lenses_of_stages(workspace: Path, session: Session) -> None:
    write(workspace, "s.workflow.yml", STAGES)
    found = await lenses(session, "s.workflow.yml")
    assert [(item.range.start.line, item.command.title) for item in found if item.command] == [
        (1, "▶ Run Test"),
        (1, "⏵ Debug"),
        (4, "▶ Run from here"),
        (11, "▶ Run from here"),
    ]


async def test_no_lenses_for_a_missing_file(session: Session) -> None:
    assert await lenses(session, "gone.workflow.yml") == []


HTTP_TRIGGER = """\
version: 1
trigger:
  type: http
  method: POST
  sample:
    headers: {content-type: application/json}
    body: {text: hi}
nodes:
  - {id: echo, type: transform, with: {value: "${{ trigger.body.text }}"}}
"""


async def test_an_http_trigger_offers_to_edit_the_sample_request(
    workspace: Path, session: Session
) -> None:
    write(workspace, "h.workflow.yml", HTTP_TRIGGER)
    uri = session.uri("h.workflow.yml")
    sample = {"headers": {"content-type": "application/json"}, "body": {"text": "hi"}}
    assert (await lenses(session, "h.workflow.yml"))[:3] == [
        lens(7, "▶ Run Test", "flowrun.runTest", {"uri": uri}),
        lens(7, "⏵ Debug", "flowrun.debugWorkflow", {"uri": uri}),
        lens(
            7,
            "▶ Run Test with Request…",
            "flowrun.runTestWithRequest",
            {"uri": uri, "trigger": sample},
        ),
    ]


async def test_the_lenses_of_a_run_follow_it_and_end_with_it(workspace: Path) -> None:
    """While a run goes: `■ Stop` and no `… queued` (the history's last status of a run that
    runs); the moment its last event is out: no `■ Stop`, the final status (a screenshot showed
    `■ Stop … queued` above a run that had ended)."""
    write(workspace, "long.workflow.yml", long_running())
    session = await start(workspace)
    try:
        run = await session.request("flowrun/execute", {"uri": session.uri("long.workflow.yml")})
        execution_id = run["executionId"]
        await pids_of(session, execution_id)
        during = titles(await lenses(session, "long.workflow.yml"))
        assert during == ["▶ Run Test", "⏵ Debug", "■ Stop", "▶ Run from here"], during
        await session.request("flowrun/stop", {"executionId": execution_id})
        await session.events.wait_for(
            lambda p: (
                p["executionId"] == execution_id and p["event"]["event"] == "execution_finished"
            )
        )
        after = titles(await lenses(session, "long.workflow.yml"))
        assert after[:2] == ["▶ Run Test", "⏵ Debug"] and after[3:] == ["▶ Run from here"]
        assert re.fullmatch(r"■ [\d.]+ (ms|s) · 1 run", after[2]), after  # stopped, its time
    finally:
        await session.stop()


def titles(found: list[types.CodeLens]) -> list[str]:
    return [item.command.title for item in found if item.command]
