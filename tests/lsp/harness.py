"""Start the real `python -m flowrun lsp` over stdio and drive it like an editor would."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    default_converter,
)
from pytest_lsp import LanguageClient
from pytest_lsp.client import (
    DEFAULT_CLIENT_FEATURES,
    client_capabilities,
    register_lsp_features,
)

TIMEOUT = 30.0


def raw_converter() -> Any:
    """Custom results and notifications stay plain dicts, as the extension sees them."""
    conv = default_converter()
    conv.register_structure_hook(JsonRPCResponseMessage, lambda obj, cls: cls(**obj))
    conv.register_structure_hook(JsonRPCNotification, lambda obj, cls: cls(**obj))
    return conv


@dataclass
class Recorder:
    """Notifications of one method, in order, with a way to wait for one that matches."""

    items: list[Any] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, item: Any) -> None:
        self.items.append(item)
        self.changed.set()

    def mark(self) -> int:
        return len(self.items)

    async def wait_for(
        self, predicate: Callable[[Any], bool], timeout: float = TIMEOUT, since: int = 0
    ) -> Any:
        """The first item from index `since` on that matches, waiting for it if needed."""

        async def scan() -> Any:
            seen = since
            while True:
                for item in self.items[seen:]:
                    if predicate(item):
                        return item
                seen = len(self.items)
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(scan(), timeout)


@dataclass
class Session:
    client: LanguageClient
    result: types.InitializeResult
    workspace: Path
    events: Recorder
    changed: Recorder
    diagnostics: Recorder
    messages: Recorder
    logs: Recorder
    refreshes: Recorder
    tests: Recorder  # flowrun/testEvent
    edits: Recorder  # workspace/applyEdit (applied: true)

    @property
    def pid(self) -> int:
        assert self.client._server is not None
        return int(self.client._server.pid)

    def uri(self, name: str) -> str:
        return (self.workspace / name).as_uri()

    async def request(self, method: str, params: Any) -> Any:
        return await asyncio.wait_for(
            self.client.protocol.send_request_async(method, params), TIMEOUT
        )

    async def raw_request(self, method: str, params: Any) -> Any:
        """Send `params` as written, even ones the client's own types would refuse."""
        protocol = self.client.protocol
        msg_id = str(uuid.uuid4())
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        protocol._request_futures[msg_id] = future
        protocol._send_data(
            JsonRPCRequestMessage(id=msg_id, method=method, params=params, jsonrpc="2.0")
        )
        return await asyncio.wait_for(asyncio.wrap_future(future), TIMEOUT)

    async def command(self, name: str, *arguments: Any) -> Any:
        params = types.ExecuteCommandParams(command=name, arguments=list(arguments))
        return await asyncio.wait_for(self.client.workspace_execute_command_async(params), TIMEOUT)

    async def wait_diagnostics(
        self,
        name: str,
        predicate: Callable[[list[types.Diagnostic]], bool] = lambda d: True,
        since: int = 0,
    ) -> list[types.Diagnostic]:
        """Diagnostics of `name` published from index `since` (see `Recorder.mark`) on."""
        uri = self.uri(name)
        found = await self.diagnostics.wait_for(
            lambda p: p.uri == uri and predicate(list(p.diagnostics)), since=since
        )
        return list(found.diagnostics)

    async def watching(self) -> None:
        await self.logs.wait_for(lambda p: p.message.startswith("Watching "))

    async def events_of(self, execution_id: str, last: str = "execution_finished") -> list[dict]:
        await self.events.wait_for(
            lambda p: p["executionId"] == execution_id and p["event"]["event"] == last
        )
        return [p["event"] for p in self.events.items if p["executionId"] == execution_id]

    def open(self, name: str, text: str | None = None, version: int = 1) -> str:
        uri = self.uri(name)
        body = (self.workspace / name).read_text() if text is None else text
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="yaml", version=version, text=body
                )
            )
        )
        return uri

    def replace(self, name: str, text: str, version: int) -> None:
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri(name), version=version
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_session(), TIMEOUT)
        finally:
            await self.client.stop()


async def start_session(
    workspace: Path,
    *,
    settings: dict[str, Any] | None = None,
    init_options: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    capabilities: types.ClientCapabilities | None = None,
) -> Session:
    client = LanguageClient(converter_factory=raw_converter)
    overridden = {
        types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
        types.WINDOW_SHOW_MESSAGE,
        types.WINDOW_LOG_MESSAGE,
    }
    defaults = {k: v for k, v in DEFAULT_CLIENT_FEATURES.items() if k not in overridden}
    register_lsp_features(client, defaults)
    names = ("events", "changed", "diagnostics", "messages", "logs", "refreshes", "tests", "edits")
    recorders = {name: Recorder() for name in names}

    @client.feature("flowrun/executionEvent")
    def on_event(params: Any) -> None:
        recorders["events"].add(params)

    @client.feature("flowrun/executionsChanged")
    def on_changed(params: Any) -> None:
        recorders["changed"].add(params)

    @client.feature("flowrun/testEvent")
    def on_test_event(params: Any) -> None:
        recorders["tests"].add(params)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def on_apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        recorders["edits"].add(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        recorders["diagnostics"].add(params)

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def on_refresh(params: Any) -> None:
        recorders["refreshes"].add(params)

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: types.LogMessageParams) -> None:
        recorders["logs"].add(params)

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def on_message(params: types.ShowMessageParams) -> None:
        recorders["messages"].add(params)

    client.set_configuration(settings or {}, section="flowrun")
    server_env = {**os.environ, **(env or {})}
    level = os.environ.get("FLOWRUN_TEST_LSP_LOG", "WARNING")
    await client.start_io(
        sys.executable, "-m", "flowrun", "lsp", "--log-level", level, env=server_env
    )
    uri = workspace.as_uri()
    result = await asyncio.wait_for(
        client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities or client_capabilities("visual-studio-code"),
                workspace_folders=[types.WorkspaceFolder(uri=uri, name=workspace.name)],
                root_uri=uri,
                initialization_options=init_options,
            )
        ),
        TIMEOUT,
    )
    return Session(client, result, workspace, **recorders)
