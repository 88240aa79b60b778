"""Pin files over the real language server (issue 17): `flowrun.pinOutput` writes the pin of
a node's output in an execution, the next run gives it (the node does not start, `pinned`
in the tree); an edit of the node makes the pin stale, a `stale-pin` warning with the quick
fixes Unpin and Re-pin from last run; Unpin removes the file (and the warning), and after a
run of the new definition Re-pin pins its output, not stale."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from lsp.harness import Session
from lsp.test_bad_requests import invalid
from lsp.test_execute import start
from lsp.test_pause_resume import finished, started
from lsp.workflows import write

FLOW = """\
version: 1
id: pins-flow
nodes:
  - {id: fetch, type: transform, with: {value: {n: 1}}}
  - {id: use, type: transform, needs: [fetch], with: {value: "${{ nodes.fetch.output.n }}"}}
outputs:
  got: ${{ nodes.use.output }}
"""
NAME = "pins.workflow.yml"


def stale(diagnostics: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.code == "stale-pin"]


async def run(session: Session, uri: str) -> dict[str, Any]:
    answer = await session.request("flowrun/execute", {"uri": uri})
    end = await finished(session, answer["executionId"])
    assert end["status"] == "succeeded", end
    tree: dict[str, Any] = await session.request(
        "flowrun/execution", {"executionId": answer["executionId"]}
    )
    return tree


async def test_pin_edit_stale_unpin_run_repin(workspace: Path) -> None:
    write(workspace, NAME, FLOW)
    pin_file = workspace / ".flowrun" / "pins" / "pins-flow" / "fetch.json"
    session = await start(workspace)
    try:
        uri = session.open(NAME)
        first = await run(session, uri)
        pinned = await session.command(
            "flowrun.pinOutput", {"executionId": first["id"], "nodeId": "fetch"}
        )
        assert pinned == {"path": str(pin_file), "stale": False}
        content = json.loads(pin_file.read_text())
        assert content["output"] == {"n": 1} and content["fromExecution"] == first["id"]

        pin_file.write_text(pin_file.read_text().replace('"n": 1', '"n": 7'))  # reviewed, edited
        second = await run(session, uri)
        assert second["outputs"] == {"got": 7}
        assert [n["pinned"] for n in second["children"]] == [True, False]
        assert started(session, "fetch") == 1

        mark = session.diagnostics.mark()
        session.replace(NAME, FLOW.replace("{n: 1}", "{n: 2}"), version=2)
        [warning] = stale(await session.wait_diagnostics(NAME, lambda d: bool(stale(d)), mark))
        assert warning.severity == types.DiagnosticSeverity.Warning
        assert "`fetch` is pinned from" in warning.message
        line = warning.range.start.line
        wire = {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 9}}
        actions = await session.raw_request(  # plain: the typed client takes these for Commands
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": wire,
                "context": {
                    "diagnostics": [
                        {
                            "range": wire,
                            "message": warning.message,
                            "code": "stale-pin",
                            "data": warning.data,
                        }
                    ]
                },
            },
        )
        fixes = {a["title"]: a["command"] for a in actions}
        assert list(fixes) == ["Unpin", "Re-pin from last run"]
        assert {a["kind"] for a in actions} == {"quickfix"}
        unpin, repin = fixes["Unpin"], fixes["Re-pin from last run"]
        assert unpin["arguments"] == [{"uri": uri, "nodeId": "fetch"}]
        assert (unpin["command"], repin["command"]) == ("flowrun.unpin", "flowrun.repin")

        # the last run where fetch ran is the first one, of the old definition: still stale
        again = await session.command(repin["command"], *repin["arguments"])
        assert again == {"path": str(pin_file), "stale": True}

        mark = session.diagnostics.mark()
        assert await session.command(unpin["command"], *unpin["arguments"]) == {"removed": True}
        assert not pin_file.exists()
        await session.wait_diagnostics(NAME, lambda d: not stale(d), mark)
        third = await run(session, uri)  # fetch runs with its new definition
        assert third["outputs"] == {"got": 2} and started(session, "fetch") == 2
        repinned = await session.command(repin["command"], *repin["arguments"])
        assert repinned == {"path": str(pin_file), "stale": False}
        assert json.loads(pin_file.read_text())["fromExecution"] == third["id"]
    finally:
        await session.stop()


async def test_a_pin_file_changed_on_disk_warns_and_clears(workspace: Path) -> None:
    """A pin file that a checkout or a teammate's commit brings is seen by the watcher."""
    write(workspace, NAME, FLOW)
    pin_file = workspace / ".flowrun" / "pins" / "pins-flow" / "fetch.json"
    session = await start(workspace)
    try:
        await session.watching()
        mark = session.diagnostics.mark()
        pin_file.parent.mkdir(parents=True)
        pin = {"node": "fetch", "hash": "0000", "output": 1, "pinnedAt": "2026-12-01T00:00:00Z"}
        pin_file.write_text(json.dumps(pin))
        [warning] = stale(await session.wait_diagnostics(NAME, lambda d: bool(stale(d)), mark))
        assert "`fetch` is pinned (2026-12-01T00:00:00Z)" in warning.message
        mark = session.diagnostics.mark()
        pin_file.unlink()
        await session.wait_diagnostics(NAME, lambda d: not stale(d), mark)
    finally:
        await session.stop()


async def test_the_pin_and_unpin_methods(workspace: Path) -> None:
    """`flowrun/pin` and `flowrun/unpin` do what the commands do, and answer bad params with
    -32602 naming the field (design §9)."""
    write(workspace, NAME, FLOW)
    pin_file = workspace / ".flowrun" / "pins" / "pins-flow" / "use.json"
    session = await start(workspace)
    try:
        uri = session.open(NAME)
        tree = await run(session, uri)
        pinned = await session.request("flowrun/pin", {"executionId": tree["id"], "nodeId": "use"})
        assert pinned == {"path": str(pin_file), "stale": False}
        assert json.loads(pin_file.read_text())["output"] == 1
        for params, says in [
            ({"executionId": tree["id"]}, "Invalid params: nodeId: Field required"),
            ({"executionId": tree["id"], "nodeId": "nope"}, "nodeId: `nope` has no output"),
            ({"executionId": "0000000000", "nodeId": "use"}, "executionId: "),
        ]:
            message = await invalid(session, "flowrun/pin", params)
            assert message.startswith(says), message
        assert (await invalid(session, "flowrun/unpin", {"nodeId": "use"})).startswith("uri: ")
        outside = workspace / ".flowrun" / "outside.json"  # a nodeId is not a path
        outside.parent.mkdir(exist_ok=True)
        outside.write_text("{}")
        escape = {"uri": uri, "nodeId": "../../outside"}
        assert (await invalid(session, "flowrun/unpin", escape)).startswith(
            "Invalid params: nodeId"
        )
        assert outside.exists()
        removed = await session.request("flowrun/unpin", {"uri": uri, "nodeId": "use"})
        assert removed == {"removed": True} and not pin_file.exists()
        again = await session.request("flowrun/unpin", {"executionId": tree["id"], "nodeId": "use"})
        assert again == {"removed": False}
        pin_file.parent.rmdir()  # a file where the workflow's pins folder goes
        pin_file.parent.write_text("not a folder")
        with pytest.raises(JsonRpcException) as failed:
            await session.request("flowrun/pin", {"executionId": tree["id"], "nodeId": "use"})
        assert failed.value.code == -32001, failed.value
        assert failed.value.message.startswith("Could not write the pin file"), failed.value
    finally:
        await session.stop()
