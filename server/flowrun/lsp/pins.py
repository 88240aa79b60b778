"""Pin files in the editor (issue 17, `runs.pins`): the protocol methods `flowrun/pin
{executionId, nodeId}` and `flowrun/unpin {nodeId, executionId | uri}` (-32602 naming the
field), and the same work as server commands (a failure shown, not thrown) `flowrun.pinOutput
{executionId, nodeId}` (the Executions view's "Pin output": that execution's output of the
node and its recorded definition hash), `flowrun.unpin {nodeId, executionId | uri}` and
`flowrun.repin {uri, nodeId}` (the node's output from the file's last execution where it
really ran: not pinned, given or mocked), and the `stale-pin` warning on a node whose pin
file holds another definition hash than the node's (from the outline's hashes, each time a
file's validation changes and after each of these commands), with the quick fixes Unpin and
Re-pin from last run (`code_actions`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from flowrun.lsp import protocol as p
from flowrun.lsp.runs import as_command, first, resolve, workflow_path
from flowrun.lsp.server import DocumentState, FlowrunServer
from flowrun.lsp.services import services
from flowrun.runs.pin_source import PinSource, last_real_run, pin_source
from flowrun.runs.pins import remove_pin, stale_message, stale_pins
from flowrun.validate.codes import STALE_PIN

PINS_KEY = "pins"
Published = dict[str, list[str]]  # the stale pins last shown, by uri


def setup(server: FlowrunServer) -> None:
    published: Published = {}

    def on_document(state: DocumentState) -> None:
        show_stale_pins(server, state, published)

    server.document_listeners.append(on_document)

    @server.feature(p.PIN)
    async def pin_method(params: Any) -> dict[str, Any]:
        return (await pin(server, p.parse(p.PinParams, params), published)).wire()

    @server.feature(p.UNPIN)
    async def unpin_method(params: Any) -> dict[str, Any]:
        return (await unpin(server, p.parse(p.UnpinParams, params), published)).wire()

    @server.command(p.CMD_PIN_OUTPUT)
    async def pin_output(*args: Any) -> Any:
        params = p.parse(p.PinParams, first(args))
        return await as_command(server, pin(server, params, published))

    @server.command(p.CMD_UNPIN)
    async def unpin_command(*args: Any) -> Any:
        params = p.parse(p.UnpinParams, first(args))
        return await as_command(server, unpin(server, params, published))

    @server.command(p.CMD_REPIN)
    async def repin_command(*args: Any) -> Any:
        params = p.parse(p.UnpinParams, first(args))
        return await as_command(server, repin(server, params, published))


async def pin(server: FlowrunServer, params: p.PinParams, published: Published) -> p.PinResult:
    store = (await services(server)).store
    execution_id = await resolve(server, params.execution_id)
    source = await pin_source(store, execution_id, params.node_id)
    if source is None:
        raise JsonRpcInvalidParams(
            f"nodeId: `{params.node_id}` has no output in execution {execution_id[:8]}"
        )
    return await _write(server, source, published)


async def unpin(
    server: FlowrunServer, params: p.UnpinParams, published: Published
) -> p.UnpinResult:
    file, workflow_id = await _workflow(server, params)
    try:
        removed = remove_pin(file, workflow_id, params.node_id)
    except OSError as exc:
        raise _unwritable("remove", exc) from None
    _refresh(server, file, published)
    return p.UnpinResult(removed=removed)


async def repin(server: FlowrunServer, params: p.UnpinParams, published: Published) -> p.PinResult:
    file, _ = await _workflow(server, params)
    source = await last_real_run((await services(server)).store, file, params.node_id)
    if source is None:
        raise JsonRpcInvalidParams(
            f"nodeId: `{params.node_id}` has not run in any execution of {file.name} (pinned "
            "runs do not count): unpin it and run the workflow, then pin it again"
        )
    return await _write(server, source, published)


async def _write(server: FlowrunServer, source: PinSource, published: Published) -> p.PinResult:
    try:
        path = await source.write((await services(server)).store)
    except OSError as exc:
        raise _unwritable("write", exc) from None
    stale = _refresh(server, source.file, published)
    return p.PinResult(path=str(path), stale=source.node_id in stale)


def _unwritable(doing: str, exc: OSError) -> JsonRpcException:
    """-32001 with what went wrong, as `flowrun pin` says it, not an internal error."""
    where = f" {exc.filename}" if exc.filename else ""
    return p.flowrun_error(
        {
            "type": "PinError",
            "message": f"Could not {doing} the pin file{where}: {exc.strerror or exc}.",
            "suggestion": "Check that the workflow's .flowrun/pins folder is writable.",
        }
    )


async def _workflow(server: FlowrunServer, params: p.UnpinParams) -> tuple[Path, str]:
    """The pinned node's workflow file and id, from `executionId` or `uri`."""
    if params.execution_id:
        store = (await services(server)).store
        tree = await store.execution_tree(await resolve(server, params.execution_id))
        return Path(tree["file"]), str(tree["workflowId"])
    if not params.uri:
        raise JsonRpcInvalidParams("uri: give the workflow's uri or an executionId")
    path = workflow_path(server, params.uri)
    outline = await server.outline(params.uri)
    if outline is None:
        raise JsonRpcInvalidParams(f"uri: no workflow file at {path}")
    return path, outline.workflow_id


def _refresh(server: FlowrunServer, file: Path, published: Published) -> list[str]:
    """Show the stale pins of `file` again (a pin file changed); the stale node ids."""
    stale: list[str] = []
    for state in list(server.documents.values()):
        if state.path.resolve() == file.resolve():
            stale = show_stale_pins(server, state, published)
    return stale


def show_stale_pins(server: FlowrunServer, state: DocumentState, published: Published) -> list[str]:
    """Publish `stale-pin` on the nodes of `state` whose pin file is stale; their ids."""
    outline = state.outline
    hashes = dict(outline.hashes)
    stale = stale_pins(state.path, outline.workflow_id, hashes) if hashes else {}
    diagnostics = []
    for node_id, found in stale.items():
        info = outline.node(node_id)
        if info is None:
            continue
        diagnostics.append(
            types.Diagnostic(
                range=info.id_range,
                severity=types.DiagnosticSeverity.Warning,
                code=STALE_PIN,
                source="flowrun",
                message=stale_message(node_id, outline.workflow_id, found),
                data={"pin": {"nodeId": node_id}},
            )
        )
    names = sorted(stale)
    if published.get(state.uri, []) != names:  # nothing stale: nothing more to publish
        published[state.uri] = names
        server.set_diagnostics(PINS_KEY, state.uri, diagnostics)
        server.sync_diagnostics(state.uri)
    return names
