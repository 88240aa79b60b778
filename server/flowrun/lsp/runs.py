"""Running workflows over JSON-RPC: `flowrun/execute`, `flowrun/stop`, `flowrun/pause`,
`flowrun/resume`, their commands, events.

`flowrun/execute` returns `{executionId}` at once; every engine event is forwarded as
`flowrun/executionEvent`, and `flowrun/executionsChanged` goes out when a run is queued and
when it ends. The work itself is `RunService`'s; this module only translates.

What may be run: an absolute `file:` URI of a `*.workflow.y{a,}ml` inside a workspace folder
(any folder when the client opened none), saved or open. Anything else is -32602 naming `uri`.
A re-run (`fromExecution`, `fromNode` or both) reuses the inputs and trigger of the execution
it starts from, the caller's inputs over them key by key and its trigger instead
(`runs.rerun.request_from`): "Re-run", "Run from here" and "Debug in Editor"
(a production execution re-run in test mode with its request). `breakBefore` and
`pauseOnFailure` make a run pause (`runs.resume` says how it goes on): `flowrun/resume` starts
a new execution from a paused one, even one paused before this server started.
"""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from flowrun.history.tree_patches import patch_for
from flowrun.lsp import protocol as p
from flowrun.lsp.diagnostics import is_workflow
from flowrun.lsp.server import FlowrunServer, uri_to_path
from flowrun.lsp.services import services
from flowrun.lsp.uris import path_to_uri
from flowrun.runs.changed import ChangedRun, last_success
from flowrun.runs.errors import FlowrunError, UnknownExecution
from flowrun.runs.rerun import request_from, rerun_from, rerun_source
from flowrun.runs.service import RunService
from flowrun_engine import events as ev


def setup(server: FlowrunServer) -> None:
    server.run_event_listeners.append(lambda eid, event: forward_event(server, eid, event))

    @server.feature(p.EXECUTE)
    async def execute(params: Any) -> dict[str, Any]:
        return (await start_run(server, p.parse(p.ExecuteParams, params))).wire()

    @server.feature(p.STOP)
    async def stop(params: Any) -> dict[str, Any]:
        return (await stop_run(server, p.parse(p.ExecutionRef, params))).wire()

    @server.feature(p.PAUSE)
    async def pause(params: Any) -> dict[str, Any]:
        ref = p.parse(p.ExecutionRef, params)
        execution_id = await resolve(server, ref.execution_id)
        paused = await (await services(server)).runs.pause(execution_id)
        return p.PauseResult(paused=paused).wire()

    @server.feature(p.RESUME)
    async def resume(params: Any) -> dict[str, Any]:
        return (await resume_run(server, p.parse(p.ResumeParams, params))).wire()

    @server.command(p.CMD_RUN_TEST)
    async def run_test(*args: Any) -> Any:
        return await as_command(server, start_run(server, p.parse(p.ExecuteParams, first(args))))

    @server.command(p.CMD_RUN_FROM_NODE)
    async def run_from_node(*args: Any) -> Any:
        params = p.parse(p.RunFromNodeArgs, first(args))
        return await as_command(server, start_run(server, params))

    @server.command(p.CMD_STOP)
    async def stop_command(*args: Any) -> Any:
        return await as_command(server, stop_run(server, p.parse(p.ExecutionRef, first(args))))


def first(args: tuple[Any, ...]) -> Any:
    return args[0] if args else {}


async def as_command(server: FlowrunServer, work: Awaitable[p.WireModel]) -> Any:
    """Commands come from CodeLens and the palette: a failure is shown, not thrown."""
    try:
        result = await work
    except JsonRpcException as exc:
        server.show_error(exc.message)
        return None
    return result.wire()


async def resolve(server: FlowrunServer, execution_id: str, field: str = "executionId") -> str:
    store = (await services(server)).store
    try:
        return await store.resolve_id(execution_id)
    except UnknownExecution as exc:
        raise JsonRpcInvalidParams(f"{field}: {exc.message}", data=exc.error) from None


def workflow_path(server: FlowrunServer, uri: str) -> Path:
    """The workflow file `uri` names, or -32602 naming `uri` (see the module's docstring)."""
    path = uri_to_path(uri) if uri.startswith("file:") else None
    if path is None or not path.is_absolute():
        raise JsonRpcInvalidParams(f"uri: not an absolute file: URI: {uri}")
    if not is_workflow(path.name):
        raise JsonRpcInvalidParams(f"uri: not a workflow file (*.workflow.yml): {path}")
    roots = server.workflow_roots()
    if roots and not any(path.resolve().is_relative_to(root.resolve()) for root in roots):
        folders = ", ".join(str(root) for root in roots)
        raise JsonRpcInvalidParams(f"uri: {path} is outside the workspace folders ({folders})")
    if not path.parent.is_dir():
        raise JsonRpcInvalidParams(f"uri: the folder {path.parent} does not exist; save the file")
    if not (path.is_file() or server.is_open(uri)):
        raise JsonRpcInvalidParams(f"uri: no workflow file at {path}")
    return path


async def start_run(server: FlowrunServer, args: p.ExecuteParams) -> p.ExecuteResult:
    runs = (await services(server)).runs
    path = workflow_path(server, args.uri)
    if args.changed:
        return await changed_run(server, runs, path, args)
    inputs, trigger, from_execution = args.inputs, args.trigger, args.from_execution
    if from_execution:
        from_execution = await resolve(server, from_execution, "fromExecution")
    if args.from_node is not None:
        await _check_node(server, args.uri, args.from_node)
    if from_execution or args.from_node is not None:
        outline = await server.outline(args.uri)
        workflow_id = outline.workflow_id if outline else path.stem
        source = await rerun_source((await services(server)).store, workflow_id, from_execution)
        inputs, trigger = request_from(source, inputs, trigger)
        if source is not None:
            from_execution = source.execution_id
    execution_id = await _execute(
        server,
        runs,
        (path, args.uri),
        args,
        inputs=inputs,
        trigger=trigger,
        start=rerun_from(from_execution, args.from_node),
    )
    return p.ExecuteResult(execution_id=execution_id)


async def changed_run(
    server: FlowrunServer, runs: RunService, path: Path, args: p.ExecuteParams
) -> p.ExecuteResult:
    """ "Re-run changed": the file's last success is the base (`runs.changed`); its inputs and
    trigger, with the caller's over them (`request_from`)."""
    if args.from_execution or args.from_node is not None:
        raise JsonRpcInvalidParams("changed: starts from the last success, not fromExecution")
    base = await last_success(runs.store, path)
    inputs, trigger = request_from(base, args.inputs, args.trigger)
    changed = ChangedRun(base)
    execution_id = await _execute(
        server, runs, (path, args.uri), args, inputs=inputs, trigger=trigger, start=changed
    )
    reused, run = (None, None) if changed.note else (changed.reused, changed.run)
    return p.ExecuteResult(execution_id=execution_id, reused=reused, run=run, note=changed.note)


async def resume_run(server: FlowrunServer, args: p.ResumeParams) -> p.ResumeResult:
    """A new run from the paused execution's checkpoint, with the file as it is (open or
    saved); -32602 names `executionId` for an unknown id, -32001 a refusal (not paused)."""
    from flowrun.runs.resume import checkpoint

    runs = (await services(server)).runs
    execution_id = await resolve(server, args.execution_id)
    try:
        resume = await checkpoint(runs.store, execution_id, args.from_node)
    except FlowrunError as exc:
        raise p.flowrun_error(exc.error) from None
    new_id = await _execute(
        server,
        runs,
        (resume.file, path_to_uri(resume.file)),
        args,
        inputs=resume.inputs,
        trigger=resume.trigger,
        start=resume,
    )
    return p.ResumeResult(execution_id=new_id, changed=resume.changed)


async def _execute(
    server: FlowrunServer,
    runs: RunService,
    target: tuple[Path, str],
    args: p.PauseOptions,
    **options: Any,
) -> str:
    """Start a run of the file `target` (its path, its URI; the open document's text) and
    follow it; a refusal is -32001."""
    path, uri = target
    document = server.workspace.text_documents.get(uri)
    try:
        execution_id = await runs.execute(
            path,
            python=server.settings.python,
            text=document.source if document is not None else None,
            **pause_options(server, args),
            **options,
        )
    except FlowrunError as exc:
        raise p.flowrun_error(exc.error) from None
    _started(server, runs, execution_id, uri)
    return execution_id


def pause_options(server: FlowrunServer, args: p.PauseOptions) -> dict[str, Any]:
    """The request's breakpoints; pause on failure also when `flowrun.pauseOnFailure` is on."""
    options = args.pause_options()
    options["pause_on_failure"] = args.pause_on_failure or server.settings.pause_on_failure
    return options


def _started(server: FlowrunServer, runs: RunService, execution_id: str, uri: str) -> None:
    server.active_runs[execution_id] = uri
    server.notify(p.EXECUTIONS_CHANGED, {})
    server.refresh_code_lenses()
    server.spawn(_follow(server, runs, execution_id), name=f"run {execution_id}")


async def _check_node(server: FlowrunServer, uri: str, node_id: str) -> None:
    outline = await server.outline(uri)
    if outline is not None and outline.parsed and outline.node(node_id) is None:
        known = ", ".join(node.id for node in outline.nodes) or "none"
        raise JsonRpcInvalidParams(f"fromNode: no node `{node_id}` in {uri} (nodes: {known})")


async def _follow(server: FlowrunServer, runs: RunService, execution_id: str) -> None:
    try:
        await runs.wait(execution_id)
    finally:
        server.active_runs.pop(execution_id, None)
        server.notify(p.EXECUTIONS_CHANGED, {})
        server.refresh_code_lenses()


async def forward_event(server: FlowrunServer, execution_id: str, event: dict[str, Any]) -> None:
    patch = await patch_for((await services(server)).store, execution_id, event)
    message = p.ExecutionEvent(execution_id=execution_id, event=event, patch=patch)
    kind = event.get("event")
    if kind == ev.EXECUTION_FINISHED:  # a client that saw the end never gets its Stop lens
        server.active_runs.pop(execution_id, None)
    server.notify(p.EXECUTION_EVENT, message.wire())
    if kind in (ev.EXECUTION_STARTED, ev.EXECUTION_FINISHED):
        server.refresh_code_lenses()


async def stop_run(server: FlowrunServer, ref: p.ExecutionRef) -> p.StopResult:
    execution_id = await resolve(server, ref.execution_id)
    stopped = await (await services(server)).runs.stop(execution_id)
    return p.StopResult(stopped=bool(stopped))
