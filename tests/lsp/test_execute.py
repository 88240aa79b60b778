"""Running over JSON-RPC: flowrun/execute and the executionEvent stream, stop, history."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from lsp.harness import Session, start_session
from lsp.workflows import BAD, QUICK, long_running, write

SETTINGS = {"python": sys.executable}

ASKS_FOR_INPUT = """\
version: 1
inputs:
  who: {type: string, description: Whom to greet}
nodes:
  - {id: greet, type: transform, with: {value: "hello ${{ inputs.who }}"}}
"""


def shape(events: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(e["event"], e.get("node")) for e in events if e["event"] != "node_log"]


async def pids_of(session: Session, execution_id: str) -> list[int]:
    """The shell's and its grandchild's pids, as the shell node printed them."""
    log = await session.events.wait_for(
        lambda p: p["executionId"] == execution_id and p["event"]["event"] == "node_log"
    )
    return [int(pid) for pid in log["event"]["text"].split()]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def gone(pids: list[int], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def history(session: Session, **params: Any) -> list[dict[str, Any]]:
    result = await session.request("flowrun/history", params)
    return list(result["executions"])


async def start(workspace: Path, **kwargs: Any) -> Session:
    kwargs.setdefault("settings", SETTINGS)
    return await start_session(workspace, **kwargs)


async def start_long_run(workspace: Path) -> tuple[Session, str, list[int]]:
    """A server running `long.workflow.yml`; the pids of its shell and of the grandchild."""
    write(workspace, "long.workflow.yml", long_running())
    session = await start(workspace)
    try:
        uri = session.uri("long.workflow.yml")
        execution_id = (await session.request("flowrun/execute", {"uri": uri}))["executionId"]
        return session, execution_id, await pids_of(session, execution_id)
    except BaseException:
        await session.stop()
        raise


async def only_run_after_restart(workspace: Path) -> dict[str, Any]:
    """The one execution a new server finds in the history."""
    session = await start(workspace)
    try:
        [summary] = await history(session)
        return dict(summary)
    finally:
        await session.stop()


async def test_run_to_completion(workspace: Path) -> None:
    write(workspace, "quick.workflow.yml", QUICK)
    session = await start(workspace)
    try:
        uri = session.uri("quick.workflow.yml")
        changed = session.changed.mark()
        result = await session.request("flowrun/execute", {"uri": uri})
        execution_id = result["executionId"]
        assert len(execution_id) == 32
        events = await session.events_of(execution_id)
        assert shape(events) == [
            ("execution_started", None),
            ("node_started", "hello"),
            ("node_finished", "hello"),
            ("node_started", "shout"),
            ("node_finished", "shout"),
            ("execution_finished", None),
        ]
        assert events[-1]["status"] == "succeeded"
        assert events[-1]["outputs"] == {"said": "hello!"}
        await session.changed.wait_for(lambda p: True, since=changed + 1)
        await session.refreshes.wait_for(lambda p: True)  # lenses follow the run
        [summary] = await history(session, uri=uri)
        assert summary["id"] == execution_id
        assert summary["status"] == "succeeded"
        tree = await session.request("flowrun/execution", {"executionId": execution_id[:8]})
        assert tree["id"] == execution_id
        assert [child["id"] for child in tree["children"]] == ["hello", "shout"]
        await _last_run_features(session, uri)
    finally:
        await session.stop()


async def _last_run_features(session: Session, uri: str) -> None:
    lenses = await session.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    titles = [lens.command.title for lens in lenses or [] if lens.command]
    assert titles[:2] == ["▶ Run Test", "⏵ Debug"]
    assert titles[2].startswith("✓ ") and titles[2].endswith(" · 1 run")
    hover = await session.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=10, character=22),
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert '"hello"' in hover.contents.value
    assert "in the last run" in hover.contents.value


async def test_bad_params(workspace: Path) -> None:
    write(workspace, "bad.workflow.yml", BAD)
    session = await start(workspace)
    try:
        cases: list[tuple[str, Any, str]] = [
            ("flowrun/execute", {}, "uri"),
            ("flowrun/execute", {"uri": session.uri("none.workflow.yml")}, "uri"),
            ("flowrun/execute", {"uri": session.uri("bad.workflow.yml"), "inputs": 3}, "inputs"),
            ("flowrun/stop", {}, "executionId"),
            ("flowrun/stop", {"executionId": "0123abcd"}, "executionId"),
            ("flowrun/execution", {"executionId": "0123abcd"}, "executionId"),
            ("flowrun/history", {"limit": 0}, "limit"),
            ("flowrun/history", {"status": "nope"}, "status"),
            ("flowrun/installDependencies", {}, "uri"),
            ("flowrun/pythonEnvironment", {"python": 5}, "python"),
            ("flowrun/history", {"uri": "untitled:Untitled-1"}, "uri"),
        ]
        for method, params, field in cases:
            with pytest.raises(JsonRpcInvalidParams) as caught:
                await session.request(method, params)
            assert caught.value.code == -32602
            assert caught.value.message.startswith(f"Invalid params: {field}") or (
                caught.value.message.startswith(f"{field}:")
            ), (method, params, caught.value.message)
            assert "Traceback" not in caught.value.message
        with pytest.raises(JsonRpcException) as refused:
            await session.request("flowrun/execute", {"uri": session.uri("bad.workflow.yml")})
        assert refused.value.code == -32001
        assert "3 errors" in refused.value.message
        write(workspace, "asks.workflow.yml", ASKS_FOR_INPUT)
        with pytest.raises(JsonRpcException) as refused:
            await session.request("flowrun/execute", {"uri": session.uri("asks.workflow.yml")})
        assert refused.value.code == -32001
        assert refused.value.data["missingInputs"] == [
            {"name": "who", "type": "string", "description": "Whom to greet"}
        ]
        assert await history(session) == []
    finally:
        await session.stop()


async def test_stop_kills_the_whole_tree(workspace: Path) -> None:
    session, execution_id, pids = await start_long_run(workspace)
    try:
        assert len(pids) == 2 and all(alive(pid) for pid in pids)
        [running] = await history(session)
        assert running["status"] == "running"
        changed = session.changed.mark()
        assert await session.request("flowrun/stop", {"executionId": execution_id}) == {
            "stopped": True
        }
        await session.changed.wait_for(lambda p: True, since=changed)  # recorded
        events = await session.events_of(execution_id)
        assert events[-1]["status"] == "stopped"
        assert await gone(pids)
        [stopped] = await history(session)
        assert stopped["status"] == "stopped"
        again = await session.request("flowrun/stop", {"executionId": execution_id})
        assert again == {"stopped": False}
    finally:
        await session.stop()


async def test_two_runs_at_once_and_a_queue(workspace: Path) -> None:
    write(workspace, "a.workflow.yml", long_running())
    write(workspace, "b.workflow.yml", long_running())
    write(workspace, "c.workflow.yml", long_running())
    session = await start(workspace, settings={**SETTINGS, "maxConcurrentRuns": 2})
    try:
        ids = [
            (await session.request("flowrun/execute", {"uri": session.uri(f"{n}.workflow.yml")}))[
                "executionId"
            ]
            for n in "abc"
        ]
        first = await pids_of(session, ids[0])
        second = await pids_of(session, ids[1])
        statuses = {e["id"]: e["status"] for e in await history(session)}
        assert statuses == {ids[0]: "running", ids[1]: "running", ids[2]: "queued"}
        await session.request("flowrun/stop", {"executionId": ids[0]})
        third = await pids_of(session, ids[2])  # its turn came
        assert await gone(first)
        for execution_id in ids[1:]:
            await session.request("flowrun/stop", {"executionId": execution_id})
        assert await gone(second + third)
    finally:
        await session.stop()


async def test_history_after_restart_and_kill(workspace: Path) -> None:
    write(workspace, "quick.workflow.yml", QUICK)
    write(workspace, "long.workflow.yml", long_running())
    session = await start(workspace)
    uri = session.uri("quick.workflow.yml")
    done = (await session.request("flowrun/execute", {"uri": uri}))["executionId"]
    await session.events_of(done)
    await session.stop()

    session = await start(workspace)
    try:
        [summary] = await history(session, uri=uri)
        assert (summary["id"], summary["status"]) == (done, "succeeded")
        long_uri = session.uri("long.workflow.yml")
        killed = (await session.request("flowrun/execute", {"uri": long_uri}))["executionId"]
        pids = await pids_of(session, killed)
    finally:
        os.kill(session.pid, signal.SIGKILL)
        await session.client.stop()

    session = await start(workspace)
    try:
        await session.changed.wait_for(lambda p: True)
        statuses = {e["id"]: e["status"] for e in await history(session)}
        assert statuses == {done: "succeeded", killed: "interrupted"}
        assert await gone(pids)
    finally:
        await session.stop()


async def test_sigterm_stops_and_records_runs(workspace: Path) -> None:
    session, execution_id, pids = await start_long_run(workspace)
    try:
        os.kill(session.pid, signal.SIGTERM)
        assert session.client._server is not None
        assert await asyncio.wait_for(session.client._server.wait(), 30) == 0
        assert await gone(pids)
    finally:
        await session.client.stop()
    summary = await only_run_after_restart(workspace)
    assert (summary["id"], summary["status"]) == (execution_id, "stopped")


async def test_closed_stdin_stops_and_records_runs(workspace: Path) -> None:
    session, execution_id, pids = await start_long_run(workspace)
    try:
        server = session.client._server
        assert server is not None and server.stdin is not None
        server.stdin.close()  # the editor went away without a word
        await asyncio.wait_for(server.wait(), 30)
        assert await gone(pids)
    finally:
        await session.client.stop()
    summary = await only_run_after_restart(workspace)
    assert (summary["id"], summary["status"]) == (execution_id, "stopped")


async def test_shutdown_stops_and_records_runs(workspace: Path) -> None:
    session, execution_id, pids = await start_long_run(workspace)
    await session.stop()  # shutdown + exit, as an editor closing
    assert await gone(pids)
    summary = await only_run_after_restart(workspace)
    assert (summary["id"], summary["status"]) == (execution_id, "stopped")
