"""Core lifecycle: settings, workspace root, history store and run service.

`initialize` reads `initializationOptions` and the root folder; `initialized` asks the client
for the `flowrun` configuration, opens the history (marking runs of a dead daemon
`interrupted`), creates the `RunService`, then starts the features' hooks. `shutdown` stops
and records every run before the store closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from typing import Any

from lsprotocol import types

from flowrun.history.interface import HistoryBackend, open_history
from flowrun.lsp import protocol as p
from flowrun.lsp.documents import faster_workspace
from flowrun.lsp.server import FlowrunServer, uri_to_path
from flowrun.runs.service import RunService
from flowrun.runs.stopping import end_processes, group_runs_execution
from flowrun.telemetry import from_environment

log = logging.getLogger(__name__)

CONFIGURATION_TIMEOUT = 5.0
READY_TIMEOUT = 30.0


@dataclass(frozen=True)
class Services:
    store: HistoryBackend
    runs: RunService


async def server_ready(server: FlowrunServer) -> None:
    """Requests may come before `initialized` is done: wait for the settings and services."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.ready.wait(), READY_TIMEOUT)


async def services(server: FlowrunServer) -> Services:
    """The history store and run service, once started; a -32001 error when they failed."""
    await server_ready(server)
    if server.store is None or server.runs is None:
        raise p.flowrun_error(
            {
                "type": "FlowrunError",
                "message": "Running workflows is not available: the history store is not open.",
                "suggestion": "Check flowrun.historyPath and the Flowrun output channel.",
            }
        )
    return Services(server.store, server.runs)


def setup(server: FlowrunServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        server.protocol._workspace = faster_workspace(server.workspace)
        server.settings = server.settings.merged(params.initialization_options)
        folders = params.workspace_folders or []
        root_uri = folders[0].uri if folders else params.root_uri
        server.root = uri_to_path(root_uri) if root_uri else None

    @server.feature(types.INITIALIZED)
    def initialized(params: types.InitializedParams) -> None:
        server.start(lambda: start(server))

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def configuration_changed(params: types.DidChangeConfigurationParams) -> None:
        python = server.settings.python
        server.settings = server.settings.merged(params.settings)
        await load_configuration(server)
        if server.runs is not None:
            await server.runs.set_max_concurrent(server.settings.max_concurrent_runs)
        if server.settings.python != python:  # re-check `requires` in the new interpreter
            for state in list(server.documents.values()):
                for listener in server.document_listeners:
                    listener(state)

    @server.feature(types.SHUTDOWN)
    async def shutdown(params: Any) -> None:
        await server.close()

    @server.feature(types.EXIT)
    async def exit_(params: Any) -> None:
        await server.close()  # pygls exits the process once this returns

    server.on_shutdown("services", lambda: stop_services(server))


async def start(server: FlowrunServer) -> None:
    await load_configuration(server)
    await start_services(server)


async def load_configuration(server: FlowrunServer) -> None:
    workspace = server.client_capabilities.workspace
    if workspace is None or not workspace.configuration:
        return
    scope = server.root.as_uri() if server.root else None
    request = types.ConfigurationParams(
        items=[types.ConfigurationItem(section="flowrun", scope_uri=scope)]
    )
    try:
        values = await asyncio.wait_for(
            server.workspace_configuration_async(request), CONFIGURATION_TIMEOUT
        )
    except Exception:
        log.warning("The client did not answer workspace/configuration", exc_info=True)
        return
    if values:
        server.settings = server.settings.merged(values[0])


async def start_services(server: FlowrunServer) -> None:
    path = server.settings.history_file(server.root)
    store = await open_history(path)
    for notice in store.notices:
        server.show_warning(notice)
    store.on_notice(server.show_warning)  # damage found later, during a run
    interrupted = await store.mark_interrupted()
    for execution_id in interrupted:
        await _kill_orphans(store, execution_id)
    server.store = store
    server.runs = RunService(
        store,
        python=server.settings.python,
        max_concurrent=server.settings.max_concurrent_runs,
        on_event=lambda execution_id, event: _dispatch(server, execution_id, event),
        mode="test",
        tracing=from_environment(),  # OTEL_EXPORTER_OTLP_ENDPOINT in the editor's environment
    )
    if interrupted:
        server.notify(p.EXECUTIONS_CHANGED, {})


async def _dispatch(server: FlowrunServer, execution_id: str, event: dict[str, Any]) -> None:
    for listener in server.run_event_listeners:
        try:
            await listener(execution_id, event)
        except Exception:
            log.exception("Handling event %s of %s failed", event.get("event"), execution_id)


async def _kill_orphans(store: HistoryBackend, execution_id: str) -> None:
    """A daemon that was killed could not stop its runs: end what is left of them now."""
    _, pgid = await store.process_of(execution_id)
    if pgid == os.getpgid(0) or not (pgid and group_runs_execution(pgid, execution_id)):
        pgid = None  # gone, or the group id now belongs to an unrelated program
    if await end_processes(execution_id, pgid, grace=0.0):
        log.warning("Killed the processes left by interrupted execution %s", execution_id)


async def stop_services(server: FlowrunServer) -> None:
    runs, store = server.runs, server.store
    server.runs = None
    if runs is not None:
        await runs.shutdown()
    if store is not None:
        server.store = None
        await store.close()
