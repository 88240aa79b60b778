"""workspace/executeCommand: what CodeLens and the command palette invoke."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from lsp.test_execute import history, pids_of, shape, start
from lsp.workflows import BAD, QUICK, long_running, write


async def test_run_test_stop_and_run_from_node(workspace: Path) -> None:
    write(workspace, "quick.workflow.yml", QUICK)
    write(workspace, "long.workflow.yml", long_running())
    session = await start(workspace)
    try:
        uri = session.uri("quick.workflow.yml")
        first = (await session.command("flowrun.runTest", {"uri": uri}))["executionId"]
        finished = (await session.events_of(first))[-1]
        assert finished["status"] == "succeeded", finished

        again = await session.command("flowrun.runFromNode", {"uri": uri, "fromNode": "shout"})
        events = await session.events_of(again["executionId"])
        assert shape(events)[:3] == [
            ("execution_started", None),
            ("node_finished", "hello"),  # given from the last run, not run again
            ("node_started", "shout"),
        ]
        assert events[1].get("given") is True
        assert events[-1]["outputs"] == {"said": "hello!"}

        long_uri = session.uri("long.workflow.yml")
        long_id = (await session.command("flowrun.runTest", {"uri": long_uri}))["executionId"]
        await pids_of(session, long_id)
        lenses = await session.client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=long_uri))
        )
        stop_lens = [
            lens for lens in lenses or [] if lens.command and lens.command.title == "■ Stop"
        ]
        assert len(stop_lens) == 1 and stop_lens[0].command is not None
        assert stop_lens[0].command.arguments == ({"executionId": long_id},)
        assert await session.command("flowrun.stop", {"executionId": long_id}) == {"stopped": True}
        assert (await session.events_of(long_id))[-1]["status"] == "stopped"
        assert len(await history(session)) == 3
    finally:
        await session.stop()


async def test_failures_are_shown(workspace: Path) -> None:
    write(workspace, "bad.workflow.yml", BAD)
    session = await start(workspace)
    try:
        uri = session.uri("bad.workflow.yml")
        assert await session.command("flowrun.runTest", {"uri": uri}) is None
        shown = await session.messages.wait_for(lambda m: True)
        assert shown.type == types.MessageType.Error
        assert shown.message.startswith("The workflow has 3 errors; nothing was run.")
        mark = session.messages.mark()
        assert await session.command("flowrun.stop", {"executionId": "ffff"}) is None
        unknown = await session.messages.wait_for(lambda m: True, since=mark)
        assert unknown.message.startswith("executionId: ")
        assert await history(session) == []
    finally:
        await session.stop()
