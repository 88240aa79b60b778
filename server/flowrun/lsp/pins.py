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
from pygls.exceptions import JsonRpcInvalidParams

from flowrun.history.interface import HistoryBackend
from flowrun.lsp import protocol as p
from flowrun.lsp.runs import as_command, first, resolve, workflow_path
from flowrun.lsp.server import DocumentState, FlowrunServer
from flowrun.lsp.services import services
from flowrun.runs.changed import SEARCHED
from flowrun.runs.pins import remove_pin, stale_pins, write_pin
from flowrun.validate.codes import STALE_PIN

PINS_KEY = "pins"
NOT_REAL = ("pinned", "given", "mocked")  # a node that finished so did not run
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
    tree = await store.execution_tree(execution_id)
    node = _node(tree["children"], params.node_id)
    if node is None or node["status"] != "succeeded":
        raise JsonRpcInvalidParams(
            f"nodeId: `{params.node_id}` has no output in execution {execution_id[:8]}"
        )
    file, workflow_id = Path(tree["file"]), str(tree["workflowId"])
    output = (await store.node_outputs(execution_id)).get(params.node_id)
    node = {**node, "executionId": execution_id}
    return _write(server, (file, workflow_id), params.node_id, node, output, published)


async def unpin(
    server: FlowrunServer, params: p.UnpinParams, published: Published
) -> p.UnpinResult:
    file, workflow_id = await _workflow(server, params)
    removed = remove_pin(file, workflow_id, params.node_id)
    _refresh(server, file, published)
    return p.UnpinResult(removed=removed)


async def repin(server: FlowrunServer, params: p.UnpinParams, published: Published) -> p.PinResult:
    file, workflow_id = await _workflow(server, params)
    store = (await services(server)).store
    found = await _last_real_run(store, file, params.node_id)
    if found is None:
        raise JsonRpcInvalidParams(
            f"nodeId: `{params.node_id}` has not run in any execution of {file.name} (pinned "
            "runs do not count): unpin it and run the workflow, then pin it again"
        )
    execution_id, node = found
    output = (await store.node_outputs(execution_id)).get(params.node_id)
    return _write(server, (file, workflow_id), params.node_id, node, output, published)


def _write(
    server: FlowrunServer,
    workflow: tuple[Path, str],
    node_id: str,
    node: Any,
    output: Any,
    published: Published,
) -> p.PinResult:
    file, workflow_id = workflow
    node_hash = node.get("configHash")
    path = write_pin(
        file,
        workflow_id,
        node_id,
        output=output,
        node_hash=node_hash,
        from_execution=node.get("executionId"),
    )
    stale = _refresh(server, file, published)
    return p.PinResult(path=str(path), stale=node_id in stale)


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


async def _last_real_run(
    store: HistoryBackend, file: Path, node_id: str
) -> tuple[str, dict[str, Any]] | None:
    """The newest execution of `file` (not a workflow test's) where `node_id` ran and
    succeeded, and that node."""
    for summary in await store.list_executions(file=str(file.resolve()), limit=SEARCHED):
        if summary.get("testName"):
            continue
        tree = await store.execution_tree(str(summary["id"]))
        node = _node(tree["children"], node_id)
        if node and node["status"] == "succeeded" and not any(node.get(k) for k in NOT_REAL):
            return str(summary["id"]), {**node, "executionId": str(summary["id"])}
    return None


def _node(children: list[Any], node_id: str) -> dict[str, Any] | None:
    """The node `node_id` of a tree (its last iteration in a loop)."""
    found = None
    for child in children:
        if child["kind"] == "stage":
            found = _node(child["children"], node_id) or found
        elif child["id"] == node_id:
            found = child
    return found


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
        origin = f" from {found.from_execution[:8]}" if found.from_execution else ""
        diagnostics.append(
            types.Diagnostic(
                range=info.id_range,
                severity=types.DiagnosticSeverity.Warning,
                code=STALE_PIN,
                source="flowrun",
                message=f"`{node_id}` is pinned{origin} ({found.pinned_at}) by "
                f".flowrun/pins/{outline.workflow_id}/{node_id}.json, made for another "
                "definition of the node: test runs give it that older output.",
                data={"pin": {"nodeId": node_id}},
            )
        )
    names = sorted(stale)
    if published.get(state.uri, []) != names:  # nothing stale: nothing more to publish
        published[state.uri] = names
        server.set_diagnostics(PINS_KEY, state.uri, diagnostics)
        server.sync_diagnostics(state.uri)
    return names
