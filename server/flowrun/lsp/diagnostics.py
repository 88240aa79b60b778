"""Diagnostics: `textDocument/publishDiagnostics` for every workflow file of the workspace.

At start-up every `*.workflow.y{a,}ml` under the workspace folders is validated, open or not.
An open file is validated when it opens and ~150 ms after the last edit (per file); closing
it re-validates what is on disk. The watcher calls `validate_uri` on disk changes.

Validation runs in the worker process (`validation.py`), never on the event loop: requests
are answered while a large file is checked. A newer edit cancels the older validation of the
same file, whose result is then never published. Whenever a file's validation changes, the
workspace rules (`flowrun.validate.workspace`: duplicate workflow ids) run over the identity
the worker found for every known file (its id, its route), under their own diagnostics source.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types

from flowrun.lsp.convert import to_lsp
from flowrun.lsp.server import DocumentState, FlowrunServer, path_to_uri, uri_to_path
from flowrun.lsp.validation import ValidationWorker, WorkerFailed
from flowrun.lsp.worker import Checked, Item
from flowrun.validate import Diagnostic, find_workflow_files
from flowrun.validate.workspace import diagnostics_of_facts

log = logging.getLogger(__name__)

DEBOUNCE = 0.15
SOURCE_KEY = "validate"
WORKSPACE_KEY = "workspace"
BATCH = 25
WORKFLOW_SUFFIXES = (".workflow.yml", ".workflow.yaml")


def is_workflow(path_or_uri: str) -> bool:
    return path_or_uri.endswith(WORKFLOW_SUFFIXES)


class DocumentChecker:
    """One pending validation per file: a newer request replaces (cancels) the older one."""

    def __init__(self, server: FlowrunServer, worker: ValidationWorker) -> None:
        self.server = server
        self.worker = worker
        self.pending: dict[str, asyncio.Task[Any]] = {}
        self.checking: dict[str, str] = {}  # the text each pending validation checks

    def schedule(self, uri: str, delay: float) -> asyncio.Task[Any]:
        if (task := self.pending.pop(uri, None)) is not None:
            task.cancel()
        task = self.server.spawn(self._later(uri, delay), name=f"validate {uri}")
        self.pending[uri] = task
        return task

    async def check_now(self, uri: str) -> None:
        """Validate `uri` unless a validation of its current text is already running."""
        task = self.pending.get(uri)
        if task is None or self.checking.get(uri) != self.server.document_text(uri):
            task = self.schedule(uri, 0)
        await asyncio.wait({task})  # never raises, even when a newer edit cancelled it

    async def _later(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        current = asyncio.current_task()
        try:
            await self.validate(uri)
        finally:
            if self.pending.get(uri) is current:
                del self.pending[uri]
                self.checking.pop(uri, None)

    async def validate(self, uri: str) -> None:
        text = self.server.document_text(uri)
        if text is None:
            self.server.forget_document(uri)
            return
        self.checking[uri] = text
        path = uri_to_path(uri) or Path(uri)
        try:
            [checked] = await self.worker.check([Item(uri, str(path), text)])
        except WorkerFailed:
            log.exception("Could not validate %s", uri)
            return
        publish(self.server, checked, text)

    async def validate_workspace(self, roots: list[Path] | None = None) -> None:
        """Validate every workflow file under `roots` (default: all workspace folders)."""
        server = self.server
        roots = server.workflow_roots() if roots is None else roots
        if not roots:
            return
        files = await asyncio.to_thread(find_workflow_files, roots)
        closed = [path for path in files if not server.is_open(path_to_uri(path))]
        for start in range(0, len(closed), BATCH):
            items = [Item(path_to_uri(p), str(p), None) for p in closed[start : start + BATCH]]
            try:
                batch = await self.worker.check(items, urgent=False)
            except WorkerFailed:
                log.exception("Could not validate %s", ", ".join(i.path for i in items))
                continue
            for checked in batch:
                if not server.is_open(checked.uri) and checked.text is not None:
                    publish(server, checked, checked.text)  # unless opened: the editor's wins

    async def close(self) -> None:
        for task in list(self.pending.values()):
            task.cancel()
        await self.worker.close()


def setup(server: FlowrunServer) -> None:
    checker = DocumentChecker(server, ValidationWorker())
    server.checker = checker

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        if is_workflow(params.text_document.uri):
            checker.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        if is_workflow(params.text_document.uri):
            checker.schedule(params.text_document.uri, DEBOUNCE)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        if not is_workflow(uri):
            return
        path = uri_to_path(uri)
        if path is not None and path.exists():
            checker.schedule(uri, 0)
        else:
            server.forget_document(uri)

    server.on_initialized("diagnostics", checker.validate_workspace)
    server.on_shutdown("diagnostics", checker.close)
    server.document_listeners.append(_workspace_rules(server))


def _workspace_rules(server: FlowrunServer) -> Callable[[DocumentState], None]:
    published: dict[str, list[Diagnostic]] = {}

    def on_document(_: DocumentState) -> None:
        states = list(server.documents.values())
        known = [(state.path, state.facts) for state in states if state.facts is not None]
        extra = diagnostics_of_facts(known)
        for state in states:
            mine = extra.get(state.path, [])
            if published.get(state.uri, []) != mine:
                published[state.uri] = mine
                server.set_diagnostics(
                    WORKSPACE_KEY, state.uri, [to_lsp(d, state.uri) for d in mine]
                )
                server.sync_diagnostics(state.uri)

    return on_document


def _checker(server: FlowrunServer) -> DocumentChecker:
    assert isinstance(server.checker, DocumentChecker)
    return server.checker


async def validate_uri(server: FlowrunServer, uri: str) -> None:
    """Validate the editor's text (or the file) of `uri` and publish its diagnostics."""
    await _checker(server).check_now(uri)


async def validate_workspace(server: FlowrunServer, roots: list[Path] | None = None) -> None:
    await _checker(server).validate_workspace(roots)


def publish(server: FlowrunServer, checked: Checked, text: str) -> None:
    server.set_diagnostics(SOURCE_KEY, checked.uri, checked.diagnostics)
    server.sync_diagnostics(checked.uri)  # first: the editor waits for these, not the outline
    server.update_document(checked.uri, text, checked.outline, checked.facts)
