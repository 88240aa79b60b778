"""The run history over JSON-RPC: `flowrun/history` (summaries; each file's last success
with its `changedNodes`, `changed_marks`) and `flowrun/execution` (tree).

Both flush the store first, so what the events said so far is in the answer. A history that
cannot be read (damaged) answers with its explanation (-32001), never an internal error.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from pygls.exceptions import JsonRpcInvalidParams

from flowrun.lsp import protocol as p
from flowrun.lsp.changed_marks import mark_changed
from flowrun.lsp.runs import resolve
from flowrun.lsp.server import FlowrunServer, uri_to_path
from flowrun.lsp.services import services
from flowrun.runs.errors import FlowrunError

T = TypeVar("T")


def setup(server: FlowrunServer) -> None:
    @server.feature(p.HISTORY)
    async def history(params: Any) -> dict[str, Any]:
        args = p.parse(p.HistoryParams, params)
        return (await explained(list_history(server, args))).wire()

    @server.feature(p.EXECUTION)
    async def execution(params: Any) -> dict[str, Any]:
        ref = p.parse(p.ExecutionRef, params)
        store = (await services(server)).store
        await store.flush()
        execution_id = await resolve(server, ref.execution_id)
        return dict(await explained(store.execution_tree(execution_id)))


async def explained(work: Awaitable[T]) -> T:
    try:
        return await work
    except FlowrunError as exc:
        raise p.flowrun_error(exc.error) from None


async def list_history(server: FlowrunServer, args: p.HistoryParams) -> p.HistoryResult:
    store = (await services(server)).store
    await store.flush()
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
        mode=args.mode,
        before=args.before,
        limit=args.limit,
    )
    listed = [dict(summary) for summary in executions]
    await mark_changed(server, listed)
    return p.HistoryResult(executions=listed)
