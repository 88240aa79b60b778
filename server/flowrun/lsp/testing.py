"""Workflow tests over JSON-RPC, for the editor's Test Explorer (design §9).

* `flowrun/listTests {uri?}` → `{files: [{uri, tests: [{id, name, range}], problem}]}`: the
  tests of one file (an open document's text; listed even without tests) or of every
  workflow file of the workspace that has tests.
  The client asks again when a file changes, appears or goes: the server computes the items.
* `flowrun/runTests {items?, runId?}` → `{runId, tests}` at once; the tests run on the
  daemon's `RunService` (mode `test`, recorded with their names), and each one's progress
  goes out as `flowrun/testEvent` (started with its executionId, then passed / failed with
  messages at the failed expectations / errored), then one `finished`. A `runId` still going
  is refused (-32602).
* `flowrun/cancelTests {runId}` → `{cancelled}`: the run starts no more tests and stops the
  executions of its running ones (their process trees, as `flowrun/stop`); it answers once
  their ends are recorded, and `finished` follows.
* `flowrun.addAsTest {executionId}` (server command): a new test made from a recorded
  execution, written into its file by `workspace/applyEdit` (the user can undo it).
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from flowrun.lsp import protocol as p
from flowrun.lsp.runs import as_command, first, resolve, workflow_path
from flowrun.lsp.server import FlowrunServer, uri_to_path
from flowrun.lsp.services import services
from flowrun.runs.errors import FlowrunError
from flowrun.testing.cases import FileTests, TestCase, collect_file
from flowrun.testing.from_execution import new_test_edit
from flowrun.testing.report import as_json_text
from flowrun.testing.runner import TestResult, TestRunner
from flowrun.validate.api import find_workflow_files

CANCEL_WAIT = 10.0  # seconds for the run to end once its executions were stopped


# the test runs going on, by run id: what `flowrun/cancelTests` finds
Active = dict[str, tuple[TestRunner, asyncio.Task[None]]]


def setup(server: FlowrunServer) -> None:
    active: Active = {}

    @server.feature(p.LIST_TESTS)
    async def list_tests(params: Any) -> dict[str, Any]:
        args = p.parse(p.ListTestsParams, params)
        files = await asyncio.to_thread(_collect, server, _uris(server, args.uri))
        if args.uri is None:  # one file is listed even without tests: the client clears it
            files = [f for f in files if f.cases]
        return p.ListTestsResult(files=[_file_item(f) for f in files]).wire()

    @server.feature(p.RUN_TESTS)
    async def run_tests(params: Any) -> dict[str, Any]:
        return (await start_tests(server, p.parse(p.RunTestsParams, params), active)).wire()

    @server.feature(p.CANCEL_TESTS)
    async def cancel_tests(params: Any) -> dict[str, Any]:
        args = p.parse(p.CancelTestsParams, params)
        return p.CancelTestsResult(cancelled=await cancel(active, args.run_id)).wire()

    @server.command(p.CMD_ADD_AS_TEST)
    async def add_as_test(*args: Any) -> Any:
        ref = p.parse(p.ExecutionRef, first(args))
        return await as_command(server, add_test(server, ref))


def _uris(server: FlowrunServer, uri: str | None) -> list[str]:
    if uri is not None:
        workflow_path(server, uri)  # -32602 naming `uri` when it is not a workflow file
        return [uri]
    paths = find_workflow_files(server.workflow_roots())
    open_docs = [u for u in server.workspace.text_documents if u.endswith((".yml", ".yaml"))]
    known = {path.as_uri() for path in paths}
    return sorted(known | {u for u in open_docs if _is_workflow_uri(u)})


def _is_workflow_uri(uri: str) -> bool:
    path = uri_to_path(uri)
    return path is not None and path.name.endswith((".workflow.yml", ".workflow.yaml"))


def _collect(server: FlowrunServer, uris: list[str]) -> list[FileTests]:
    found: list[FileTests] = []
    for uri in uris:
        path = uri_to_path(uri)
        if path is None:
            continue
        document = server.workspace.text_documents.get(uri)
        text = str(document.source) if document is not None else None
        if text is None and not path.is_file():
            continue
        found.append(collect_file(path, text))
    return found


def _file_item(tests: FileTests) -> p.TestFile:
    problem = None
    if tests.problems:
        first_problem = tests.problems[0]
        problem = f"line {first_problem.range.start.line + 1}: {first_problem.message}"
    items = [
        p.TestItem(id=case.id, name=case.name, range=_line_range(case.line)) for case in tests.cases
    ]
    return p.TestFile(uri=tests.path.as_uri(), tests=items, problem=problem)


def _line_range(line: int) -> p.WireRange:
    return p.WireRange(
        start=p.WirePosition(line=line, character=0), end=p.WirePosition(line=line, character=0)
    )


# --- running ----------------------------------------------------------------------------


async def start_tests(
    server: FlowrunServer, args: p.RunTestsParams, active: Active
) -> p.RunTestsResult:
    if args.run_id is not None and args.run_id in active:
        # its entry would replace the running one's, which then could not be cancelled
        raise JsonRpcInvalidParams(f"runId: a test run with id {args.run_id!r} is still going")
    runs = (await services(server)).runs
    selections = args.items
    if selections is None:
        selections = [p.TestSelection(uri=u) for u in _uris(server, None)]
    for selection in selections:
        workflow_path(server, selection.uri)
    uris = list(dict.fromkeys(s.uri for s in selections))
    files = await asyncio.to_thread(_collect, server, uris)
    cases = _chosen(files, selections)
    run_id = args.run_id or uuid.uuid4().hex
    runner = TestRunner(
        runs,
        jobs=server.settings.max_concurrent_runs,
        on_start=lambda case, eid: _send(server, run_id, case, "started", execution_id=eid),
        on_result=lambda result: _send_result(server, run_id, result),
    )
    task = server.spawn(_run(server, runner, run_id, files, cases), name=f"tests {run_id[:8]}")
    active[run_id] = (runner, task)
    task.add_done_callback(lambda _: active.pop(run_id, None))
    return p.RunTestsResult(run_id=run_id, tests=[c.id for c in cases])


async def cancel(active: Active, run_id: str) -> bool:
    going = active.get(run_id)
    if going is None:
        return False
    runner, task = going
    await runner.cancel()
    await asyncio.wait({task}, timeout=CANCEL_WAIT)  # `finished` goes out before the answer
    return True


def _chosen(files: list[FileTests], selections: list[p.TestSelection]) -> list[TestCase]:
    by_uri = {f.path.as_uri(): f for f in files}
    chosen: list[TestCase] = []
    for selection in selections:
        tests = by_uri.get(selection.uri)
        if tests is None:
            continue
        cases = [c for c in tests.cases if selection.name in (None, c.name)]
        if selection.name is not None and not cases:
            raise JsonRpcInvalidParams(f"items: no test `{selection.name}` in {selection.uri}")
        chosen += [c for c in cases if c not in chosen]
    return chosen


async def _run(
    server: FlowrunServer,
    runner: TestRunner,
    run_id: str,
    files: list[FileTests],
    cases: list[TestCase],
) -> None:
    try:
        await runner.run(files, cases)
    finally:
        server.notify(p.TEST_EVENT, p.TestEvent(run_id=run_id, state="finished").wire())
        server.notify(p.EXECUTIONS_CHANGED, {})


def _send(server: FlowrunServer, run_id: str, case: TestCase, state: str, **fields: Any) -> None:
    event = p.TestEvent.model_validate(
        {
            "run_id": run_id,
            "state": state,
            "id": case.id,
            "uri": case.file.as_uri(),
            "name": case.name,
            **fields,
        }
    )
    server.notify(p.TEST_EVENT, event.wire())


def _send_result(server: FlowrunServer, run_id: str, result: TestResult) -> None:
    uri = result.case.file.as_uri()
    messages: list[p.TestMessage] = []
    for failure in result.failures:
        where = _line_range(result.failure_line(failure))
        messages.append(
            p.TestMessage(
                message=f"{failure.label}: {failure.message}",
                expected=as_json_text(failure.expected),
                actual=as_json_text(failure.actual),
                uri=uri,
                range=where,
            )
        )
    if result.message:
        where = _line_range(result.case.line)
        messages.append(p.TestMessage(message=result.message, uri=uri, range=where))
    state = {"passed": "passed", "failed": "failed", "error": "errored"}[result.outcome]
    _send(
        server,
        run_id,
        result.case,
        state,
        execution_id=result.execution_id,
        duration_ms=result.duration_ms,
        messages=messages,
    )


# --- "Add as test" ----------------------------------------------------------------------


async def add_test(server: FlowrunServer, ref: p.ExecutionRef) -> p.AddedTest:
    store = (await services(server)).store
    execution_id = await resolve(server, ref.execution_id)
    try:
        tree = await store.execution_tree(execution_id)
    except FlowrunError as exc:
        raise p.flowrun_error(exc.error) from None
    path = Path(str(tree["file"]))
    uri = path.as_uri()
    text = server.document_text(uri)
    if text is None:
        raise JsonRpcInvalidParams(f"executionId: its file {path} is gone")
    edit = new_test_edit(text, path, tree)
    change = types.TextEdit(
        range=types.Range(
            start=types.Position(edit.line, edit.character),
            end=types.Position(edit.line, edit.character),
        ),
        new_text=edit.text,
    )
    applied = await server.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(
            edit=types.WorkspaceEdit(changes={uri: [change]}), label=f"Add test `{edit.name}`"
        )
    )
    return p.AddedTest(uri=uri, name=edit.name, line=edit.name_line, applied=applied.applied)
