""" "Re-run changed" over the real language server (issue 17): after an edit of the open
document, the CodeLens says how many nodes changed since the file's last success and runs
`flowrun.runTest` with `changed: true`, which gives the unchanged nodes their recorded outputs
and runs the rest. Node runs are counted by `node_started` events."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from lsp.test_codelens import lenses, titles
from lsp.test_execute import start
from lsp.test_pause_resume import finished, started
from lsp.workflows import write

CHAIN = """\
version: 1
nodes:
  - {id: top, type: transform, with: {value: 20}}
  - {id: middle, type: transform, needs: [top], with: {value: "${{ nodes.top.output }}"}}
  - {id: bottom, type: transform, needs: [middle], with: {value: [LEAF]}}
  - {id: beside, type: transform, with: {value: 0}}
outputs:
  bottom: ${{ nodes.bottom.output }}
"""
MARKER = "↻ Re-run changed"


async def test_the_lens_counts_the_changed_nodes_and_reruns_only_them(workspace: Path) -> None:
    write(workspace, "chain.workflow.yml", CHAIN.replace("LEAF", "1"))
    session = await start(workspace)
    try:
        uri = session.open("chain.workflow.yml")
        first = await session.request("flowrun/execute", {"uri": uri, "changed": True})
        assert first["reused"] is None and first["run"] is None
        assert first["note"] == "no successful execution of chain.workflow.yml yet: a full run"
        assert (await finished(session, first["executionId"]))["status"] == "succeeded"
        assert not [t for t in titles(await lenses(session, "chain.workflow.yml")) if MARKER in t]

        edited = CHAIN.replace("LEAF", "'${{ nodes.middle.output }}', 2")  # unsaved
        session.replace("chain.workflow.yml", edited, version=2)
        [lens] = [
            found
            for found in await lenses(session, "chain.workflow.yml")
            if found.command and MARKER in found.command.title
        ]
        assert lens.command is not None
        assert lens.command.title == "↻ Re-run changed (1 node changed since the last success)"
        assert list(lens.command.arguments or []) == [{"uri": uri, "changed": True}]

        answer = await session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=lens.command.command, arguments=lens.command.arguments
            )
        )
        assert answer is not None
        assert answer["reused"] == ["top", "middle", "beside"]
        assert answer["run"] == {"bottom": "its definition changed"} and answer["note"] is None
        end = await finished(session, answer["executionId"])
        assert end["status"] == "succeeded" and end["outputs"] == {"bottom": [20, 2]}
        counts = {node: started(session, node) for node in ("top", "middle", "bottom", "beside")}
        assert counts == {"top": 1, "middle": 1, "bottom": 2, "beside": 1}
        tree = await session.request("flowrun/execution", {"executionId": answer["executionId"]})
        assert tree["parentExecutionId"] == first["executionId"]
        # that run is the last success now: the lens is gone
        assert not [t for t in titles(await lenses(session, "chain.workflow.yml")) if MARKER in t]
    finally:
        await session.stop()
