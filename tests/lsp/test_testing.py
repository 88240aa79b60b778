"""Workflow tests over JSON-RPC (what the Test Explorer uses): flowrun/listTests,
flowrun/runTests with its flowrun/testEvent stream, and the flowrun.addAsTest command, against
the real language server over stdio, real engine children and a real history file."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from flowrun.validate import validate_text
from lsp.harness import Session, start_session
from lsp.test_execute import alive, gone, pids_of
from lsp.workflows import long_running, write

SETTINGS = {"python": sys.executable}
SAMPLE = Path(__file__).parents[1] / "workflow_samples" / "summarize.workflow.yml"
NO_TESTS = "version: 1\nnodes:\n  - {id: a, type: transform, with: {value: 1}}\n"
NAMES = ["summarises a short text", "a provider error fails the run", "expects the wrong summary"]


@pytest.fixture
async def session(workspace: Path) -> Any:
    shutil.copy(SAMPLE, workspace / "summarize.workflow.yml")
    (workspace / "plain.workflow.yml").write_text(NO_TESTS)
    started = await start_session(workspace, settings=SETTINGS)
    try:
        yield started
    finally:
        await started.stop()


def id_of(session: Session, name: str) -> str:
    return f"{session.workspace / 'summarize.workflow.yml'}::{name}"


async def test_the_server_lists_the_tests_of_the_workspace_and_of_an_edited_file(
    session: Session,
) -> None:
    commands = session.result.capabilities.execute_command_provider
    assert commands is not None and "flowrun.addAsTest" in commands.commands
    listed = await session.request("flowrun/listTests", {})
    [file] = listed["files"]  # files without tests are left out
    assert file["uri"] == session.uri("summarize.workflow.yml") and file["problem"] is None
    assert [t["name"] for t in file["tests"]] == NAMES
    assert file["tests"][0]["id"] == id_of(session, NAMES[0])
    assert [t["range"]["start"]["line"] for t in file["tests"]] == [27, 38, 42]

    text = (session.workspace / "summarize.workflow.yml").read_text()
    session.open("summarize.workflow.yml", text + "  - name: added in the editor\n")
    listed = await session.request(
        "flowrun/listTests", {"uri": session.uri("summarize.workflow.yml")}
    )
    assert [t["name"] for t in listed["files"][0]["tests"]][-1] == "added in the editor"
    with pytest.raises(JsonRpcInvalidParams, match="uri: not a workflow file"):
        await session.request("flowrun/listTests", {"uri": session.uri("notes.txt")})


async def test_run_all_streams_started_then_results_with_the_failure_at_its_line(
    session: Session,
) -> None:
    result = await session.request("flowrun/runTests", {"runId": "r1"})
    assert result == {"runId": "r1", "tests": [id_of(session, n) for n in NAMES]}
    await session.tests.wait_for(lambda e: e["state"] == "finished" and e["runId"] == "r1")
    events = [e for e in session.tests.items if e["runId"] == "r1"]
    ends = {e["name"]: e for e in events if e["state"] in ("passed", "failed", "errored")}
    assert {n: e["state"] for n, e in ends.items()} == {
        NAMES[0]: "passed",
        NAMES[1]: "passed",
        NAMES[2]: "failed",
    }
    started = [e for e in events if e["state"] == "started"]
    assert len(started) == 3 and all(len(e["executionId"]) == 32 for e in started)
    [message] = ends[NAMES[2]]["messages"]
    assert message["message"] == (
        'expect.outputs.summary: expected "It runs them locally.", got "It runs in the cloud."'
    )
    assert message["expected"] == '"It runs them locally."'
    assert message["actual"] == '"It runs in the cloud."'
    assert message["range"]["start"]["line"] == 47
    assert message["uri"] == session.uri("summarize.workflow.yml")
    history = await session.request("flowrun/history", {})
    assert sorted(e["status"] for e in history["executions"]) == [
        "failed",
        "succeeded",
        "succeeded",
    ]


async def test_run_one_test_and_refuse_an_unknown_one(session: Session) -> None:
    uri = session.uri("summarize.workflow.yml")
    one = {"items": [{"uri": uri, "name": NAMES[1]}], "runId": "one"}
    assert (await session.request("flowrun/runTests", one))["tests"] == [id_of(session, NAMES[1])]
    done = await session.tests.wait_for(lambda e: e["runId"] == "one" and e["state"] == "passed")
    assert done["name"] == NAMES[1] and done["durationMs"] >= 0
    with pytest.raises(JsonRpcInvalidParams, match="items: no test `nope`"):
        await session.request("flowrun/runTests", {"items": [{"uri": uri, "name": "nope"}]})


async def test_add_as_test_writes_a_test_of_a_recorded_execution(session: Session) -> None:
    uri = session.uri("summarize.workflow.yml")
    execution_id = (await session.request("flowrun/execute", {"uri": uri}))["executionId"]
    await session.events.wait_for(
        lambda p: p["executionId"] == execution_id and p["event"]["event"] == "execution_finished"
    )
    added = await session.command("flowrun.addAsTest", {"executionId": execution_id})
    name = f"execution {execution_id[:8]}"
    assert added == {"uri": uri, "name": name, "line": 48, "applied": True}
    [edit] = session.edits.items
    [change] = edit.edit.changes[uri]
    text = (session.workspace / "summarize.workflow.yml").read_text()
    lines = text.splitlines(keepends=True)
    at = sum(map(len, lines[: change.range.start.line])) + change.range.start.character
    assert change.range.start == change.range.end  # an insertion after the last test
    new_text = text[:at] + change.new_text + text[at:]
    result = validate_text(new_text, session.workspace / "summarize.workflow.yml")
    assert result.diagnostics == []
    assert result.workflow is not None
    test = result.workflow.tests[-1]
    assert test.name == name and new_text.splitlines()[48] == f"  - name: {name}"
    # the llm node failed (nothing listens on its base_url): its error becomes the mock
    assert test.mock["summarize"]["error"]["type"] == "ProviderError"
    assert test.expect.status == "failed"
    assert test.expect.error == {"type": "ProviderError"}
    assert test.trigger is not None and test.trigger.body == {
        "text": "Flowrun runs workflows locally."
    }


SLOW = long_running(120) + (
    "tests:\n"
    "  - {name: first slow one, expect: {status: succeeded}}\n"
    "  - {name: second slow one, expect: {status: succeeded}}\n"
    "  - {name: never starts, expect: {status: succeeded}}\n"
)


async def started(session: Session, name: str) -> dict[str, Any]:
    return dict(
        await session.tests.wait_for(lambda e: e["state"] == "started" and e["name"] == name)
    )


async def test_cancel_stops_the_running_tests_processes_and_starts_no_more(
    workspace: Path,
) -> None:
    write(workspace, "slow.workflow.yml", SLOW)
    session = await start_session(workspace, settings={**SETTINGS, "maxConcurrentRuns": 2})
    try:
        uri = session.uri("slow.workflow.yml")
        await session.request("flowrun/runTests", {"items": [{"uri": uri}], "runId": "slow"})
        running = [await started(session, n) for n in ("first slow one", "second slow one")]
        pids = [pid for e in running for pid in await pids_of(session, e["executionId"])]
        assert len(pids) == 4 and all(alive(pid) for pid in pids)
        with pytest.raises(JsonRpcInvalidParams, match="runId: a test run with id 'slow'"):
            await session.request("flowrun/runTests", {"items": [{"uri": uri}], "runId": "slow"})

        assert await session.request("flowrun/cancelTests", {"runId": "slow"}) == {
            "cancelled": True
        }
        assert await gone(pids)
        events = [e for e in session.tests.items if e["runId"] == "slow"]
        assert events[-1]["state"] == "finished"  # sent before the answer
        ends = {e["name"]: e for e in events if e["state"] == "errored"}
        assert sorted(ends) == ["first slow one", "second slow one"]
        assert [m["message"] for m in ends["first slow one"]["messages"]] == ["cancelled"]
        assert "never starts" not in {e.get("name") for e in events}
        history = await session.request("flowrun/history", {})
        assert [e["status"] for e in history["executions"]] == ["stopped", "stopped"]
        again = await session.request("flowrun/cancelTests", {"runId": "slow"})
        assert again == {"cancelled": False}
        with pytest.raises(JsonRpcInvalidParams, match="runId"):
            await session.request("flowrun/cancelTests", {})
    finally:
        await session.stop()
