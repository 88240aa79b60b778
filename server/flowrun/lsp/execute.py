"""Running workflows over JSON-RPC: the custom requests, notifications and commands of §7.

`flowrun/execute` returns `{executionId}` at once; every engine event is forwarded as
`flowrun/executionEvent`, and `flowrun/executionsChanged` goes out when a run is queued and
when it ends. The work itself is `RunService`'s; this module only translates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from flowrun.history.tree_patches import patch_for
from flowrun.lsp import dependencies
from flowrun.lsp import protocol as p
from flowrun.lsp.server import FlowrunServer, uri_to_path

log = logging.getLogger(__name__)
T = TypeVar("T")

READY_TIMEOUT = 30.0


def setup(server: FlowrunServer) -> None:
    server.run_event_listeners.append(lambda eid, event: forward_event(server, eid, event))

    @server.feature(p.EXECUTE)
    async def execute(params: Any) -> dict[str, Any]:
        return (await start_run(server, p.parse(p.ExecuteParams, params))).wire()

    @server.feature(p.STOP)
    async def stop(params: Any) -> dict[str, Any]:
        return (await stop_run(server, p.parse(p.ExecutionRef, params))).wire()

    @server.feature(p.HISTORY)
    async def history(params: Any) -> dict[str, Any]:
        args = p.parse(p.HistoryParams, params)
        return (await _explained(list_history(server, args))).wire()

    @server.feature(p.EXECUTION)
    async def execution(params: Any) -> dict[str, Any]:
        ref = p.parse(p.ExecutionRef, params)
        store = (await _services(server)).store
        await store.flush()
        execution_id = await resolve(server, ref.execution_id)
        tree: dict[str, Any] = await _explained(store.execution_tree(execution_id))
        return tree

    @server.feature(p.PYTHON_ENVIRONMENT)
    async def python_environment(params: Any) -> dict[str, Any]:
        args = p.parse(p.PythonEnvironmentParams, params)
        return (await describe_python(server, args.python)).wire()

    @server.feature(p.INSTALL_DEPENDENCIES)
    async def install_dependencies(params: Any) -> dict[str, Any]:
        return (await install(server, p.parse(p.DocumentRef, params))).wire()

    _commands(server)


def _commands(server: FlowrunServer) -> None:
    @server.command(p.CMD_RUN_TEST)
    async def run_test(*args: Any) -> Any:
        return await _as_command(server, start_run(server, p.parse(p.ExecuteParams, _first(args))))

    @server.command(p.CMD_RUN_FROM_NODE)
    async def run_from_node(*args: Any) -> Any:
        params = p.parse(p.RunFromNodeArgs, _first(args))
        return await _as_command(server, start_run(server, params))

    @server.command(p.CMD_STOP)
    async def stop(*args: Any) -> Any:
        return await _as_command(server, stop_run(server, p.parse(p.ExecutionRef, _first(args))))

    @server.command(p.CMD_INSTALL_DEPENDENCIES)
    async def install_dependencies(*args: Any) -> Any:
        return await _as_command(server, install(server, p.parse(p.DocumentRef, _first(args))))


async def _explained(work: Awaitable[T]) -> T:
    """A history that cannot be read (damaged) answers with its explanation (-32001)."""
    from flowrun.runs.errors import FlowrunError

    try:
        return await work
    except FlowrunError as exc:
        raise p.flowrun_error(exc.error) from None


def _first(args: tuple[Any, ...]) -> Any:
    return args[0] if args else {}


async def _as_command(server: FlowrunServer, work: Any) -> Any:
    """Commands come from CodeLens and the palette: a failure is shown, not thrown."""
    try:
        result: p.WireModel = await work
    except JsonRpcException as exc:
        server.show_error(exc.message)
        return None
    return result.wire()


class _Services:
    def __init__(self, store: Any, runs: Any) -> None:
        self.store = store
        self.runs = runs


async def server_ready(server: FlowrunServer) -> None:
    """Requests may come before `initialized` is done: wait for the settings and services."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.ready.wait(), READY_TIMEOUT)


async def _services(server: FlowrunServer) -> _Services:
    await server_ready(server)
    if server.store is None or server.runs is None:
        raise p.flowrun_error(
            {
                "type": "FlowrunError",
                "message": "Running workflows is not available: the history store is not open.",
                "suggestion": "Check flowrun.historyPath and the Flowrun output channel.",
            }
        )
    return _Services(server.store, server.runs)


async def resolve(server: FlowrunServer, execution_id: str) -> str:
    from flowrun.runs.errors import UnknownExecution

    store = (await _services(server)).store
    try:
        resolved: str = await store.resolve_id(execution_id)
    except UnknownExecution as exc:
        raise JsonRpcInvalidParams(f"executionId: {exc.message}", data=exc.error) from None
    return resolved


async def start_run(server: FlowrunServer, args: p.ExecuteParams) -> p.ExecuteResult:
    from flowrun.runs.errors import FlowrunError

    services = await _services(server)
    path = uri_to_path(args.uri)
    if path is None or not (path.is_file() or server.is_open(args.uri)):
        raise JsonRpcInvalidParams(f"uri: no workflow file at {args.uri}")
    from_execution = args.from_execution
    if from_execution:
        from_execution = await resolve(server, from_execution)
    document = server.workspace.text_documents.get(args.uri)
    try:
        execution_id: str = await services.runs.execute(
            path,
            inputs=args.inputs,
            trigger=args.trigger,
            python=server.settings.python,
            from_execution=from_execution,
            from_node=args.from_node,
            text=document.source if document is not None else None,
        )
    except FlowrunError as exc:
        raise p.flowrun_error(exc.error) from None
    server.active_runs[execution_id] = args.uri
    server.notify(p.EXECUTIONS_CHANGED, {})
    server.refresh_code_lenses()
    server.spawn(_follow(server, services.runs, execution_id), name=f"run {execution_id}")
    return p.ExecuteResult(execution_id=execution_id)


async def _follow(server: FlowrunServer, runs: Any, execution_id: str) -> None:
    try:
        await runs.wait(execution_id)
    finally:
        server.active_runs.pop(execution_id, None)
        server.notify(p.EXECUTIONS_CHANGED, {})
        server.refresh_code_lenses()


async def forward_event(server: FlowrunServer, execution_id: str, event: dict[str, Any]) -> None:
    patch = await patch_for((await _services(server)).store, execution_id, event)
    message = p.ExecutionEvent(execution_id=execution_id, event=event, patch=patch)
    server.notify(p.EXECUTION_EVENT, message.wire())
    if event.get("event") == "execution_started":
        server.refresh_code_lenses()


async def stop_run(server: FlowrunServer, ref: p.ExecutionRef) -> p.StopResult:
    execution_id = await resolve(server, ref.execution_id)
    stopped = await (await _services(server)).runs.stop(execution_id)
    return p.StopResult(stopped=bool(stopped))


async def list_history(server: FlowrunServer, args: p.HistoryParams) -> p.HistoryResult:
    store = (await _services(server)).store
    await store.flush()  # what the events said so far is in the answer
    file = None
    if args.uri:
        path = uri_to_path(args.uri)
        if path is None:
            raise JsonRpcInvalidParams(f"uri: not a file uri: {args.uri}")
        file = str(path.resolve())  # as RunService records it
    executions = await store.list_executions(
        workflow_id=args.workflow_id,
        file=file,
        status=args.status,
        before=args.before,
        limit=args.limit,
    )
    return p.HistoryResult(executions=list(executions))


async def describe_python(server: FlowrunServer, python: str | None) -> p.PythonEnvironmentResult:
    from flowrun.pyenv import inspect_interpreter, missing_packages

    await server_ready(server)
    info = await inspect_interpreter(python or server.settings.python)
    missing: list[str] = []
    if info.ok:
        requires = sorted(
            {name for state in server.documents.values() for name, _ in state.outline.requires}
        )
        if requires:
            missing = list(await missing_packages(info.path, requires))
    return p.PythonEnvironmentResult(
        path=info.path, version=info.version, ok=info.ok, problems=list(info.problems),
        missing=missing,
    )  # fmt: skip


async def install(server: FlowrunServer, ref: p.DocumentRef) -> p.InstallDependenciesResult:
    from flowrun.pyenv import (
        display_command,
        inspect_interpreter,
        install_packages,
        pip_install_command,
    )

    await server_ready(server)
    outline = await server.outline(ref.uri)
    if outline is None:
        raise JsonRpcInvalidParams(f"uri: no workflow file at {ref.uri}")
    info = await inspect_interpreter(server.settings.python)
    if not info.ok:
        raise p.flowrun_error(
            {
                "type": "PythonNotFound",
                "message": f"No usable Python at {info.path}: {'; '.join(info.problems)}",
                "suggestion": "Select a Python ≥ 3.11 interpreter (flowrun.python).",
            }
        )
    dependencies.forget_cache()
    found = await dependencies.missing_for(info.path, [name for name, _ in outline.requires])
    missing = found[1] if found else []
    if not missing:
        return p.InstallDependenciesResult(installed=[], output="Nothing to install.")
    ok, output = await _install_with_progress(server, info.path, missing, install_packages)
    dependencies.forget_cache()
    for state in list(server.documents.values()):
        if state.outline.requires:
            server.spawn(dependencies.check_document(server, state), name="deps recheck")
    if not ok:
        command = display_command(pip_install_command(info.path, missing))
        raise p.flowrun_error(
            {
                "type": "DependencyError",
                "message": f"pip could not install {', '.join(missing)}: {output[-500:]}",
                "suggestion": f"Run it yourself to see why: {command}",
            }
        )
    return p.InstallDependenciesResult(installed=missing, output=output)


async def _install_with_progress(
    server: FlowrunServer, python: str, missing: list[str], install_packages: Any
) -> tuple[bool, str]:
    window = server.client_capabilities.window
    token = f"flowrun-install-{uuid.uuid4().hex}"
    progress = bool(window and window.work_done_progress)
    if progress:
        try:
            await server.work_done_progress.create_async(token)
        except Exception:
            progress = False
    if progress:
        server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title="Installing Python packages", message=", ".join(missing), cancellable=False
            ),
        )
    try:
        ok, output = await install_packages(python, missing)
    finally:
        if progress:
            server.work_done_progress.end(token, types.WorkDoneProgressEnd(message="Done"))
    return bool(ok), str(output)
