"""Diagnostics: `textDocument/publishDiagnostics` for every workflow file of the workspace.

At start-up every `*.workflow.y{a,}ml` under the workspace folders is validated, open or not.
An open file is validated when it opens and ~150 ms after the last edit (per file); closing
it re-validates what is on disk. The watcher module calls `validate_uri` on disk changes.
Whenever a file's validation changes, the workspace rules (`flowrun.validate.workspace`:
duplicate workflow ids) run over every known file, under their own diagnostics source.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types

from flowrun.lsp.convert import to_lsp
from flowrun.lsp.server import FlowrunServer, path_to_uri, uri_to_path

log = logging.getLogger(__name__)

DEBOUNCE = 0.15
SOURCE_KEY = "validate"
WORKSPACE_KEY = "workspace"
BATCH = 25
WORKFLOW_SUFFIXES = (".workflow.yml", ".workflow.yaml")


def is_workflow(path_or_uri: str) -> bool:
    return path_or_uri.endswith(WORKFLOW_SUFFIXES)


def setup(server: FlowrunServer) -> None:
    pending: dict[str, asyncio.Task[Any]] = {}

    def schedule(uri: str, delay: float) -> None:
        if (task := pending.pop(uri, None)) is not None:
            task.cancel()
        pending[uri] = server.spawn(_later(uri, delay), name=f"validate {uri}")

    async def _later(uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        try:
            await validate_uri(server, uri)
        finally:
            pending.pop(uri, None)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        if is_workflow(params.text_document.uri):
            schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        if is_workflow(params.text_document.uri):
            schedule(params.text_document.uri, DEBOUNCE)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        if not is_workflow(uri):
            return
        path = uri_to_path(uri)
        if path is not None and path.exists():
            schedule(uri, 0)
        else:
            server.forget_document(uri)

    server.on_initialized("diagnostics", lambda: validate_workspace(server))
    server.document_listeners.append(_workspace_rules(server))


def _workspace_rules(server: FlowrunServer) -> Callable[[Any], None]:
    from flowrun.validate.workspace import workspace_diagnostics

    published: dict[str, list[Any]] = {}

    def on_document(_: Any) -> None:
        states = list(server.documents.values())
        extra = workspace_diagnostics((s.path, s.result) for s in states if s.result is not None)
        for state in states:
            mine = extra.get(state.path, [])
            if published.get(state.uri, []) != mine:
                published[state.uri] = mine
                server.set_diagnostics(
                    WORKSPACE_KEY, state.uri, [to_lsp(d, state.uri) for d in mine]
                )
                server.sync_diagnostics(state.uri)

    return on_document


async def validate_uri(server: FlowrunServer, uri: str) -> None:
    """Validate the editor's text (or the file) of `uri` and publish its diagnostics."""
    from flowrun.validate import validate_text

    text = server.document_text(uri)
    if text is None:
        server.forget_document(uri)
        return
    path = uri_to_path(uri) or Path(uri)
    result = await asyncio.to_thread(validate_text, text, path)
    publish(server, uri, text, result)


def publish(server: FlowrunServer, uri: str, text: str, result: Any) -> None:
    server.set_diagnostics(SOURCE_KEY, uri, [to_lsp(d, uri) for d in result.diagnostics])
    server.sync_diagnostics(uri)  # first: the editor waits for these, not for the outline
    server.update_document(uri, text, result)


async def validate_workspace(server: FlowrunServer, roots: list[Path] | None = None) -> None:
    """Validate every workflow file under `roots` (default: all workspace folders)."""
    from flowrun.validate import find_workflow_files

    roots = server.workflow_roots() if roots is None else roots
    if not roots:
        return
    files = await asyncio.to_thread(find_workflow_files, roots)
    closed = [path for path in files if not server.is_open(path_to_uri(path))]
    for start in range(0, len(closed), BATCH):
        batch = await asyncio.to_thread(_validate_files, closed[start : start + BATCH])
        for path, text, result in batch:
            uri = path_to_uri(path)
            if not server.is_open(uri):  # opened meanwhile: the editor's text wins
                publish(server, uri, text, result)


def _validate_files(paths: list[Path]) -> list[tuple[Path, str, Any]]:
    from flowrun.validate import validate_text

    done = []
    for path in paths:
        try:
            text = path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            log.warning("Cannot read %s", path)
            continue
        done.append((path, text, validate_text(text, path)))
    return done
