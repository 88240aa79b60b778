"""The Flowrun language server: services, document state, diagnostics bookkeeping, tasks.

`build_server()` makes a `FlowrunServer` and lets each feature module listed in `features`
register its handlers with `setup(server)`; nothing happens at import time. Features hook the
lifecycle with `on_initialized` / `on_shutdown`; a failing hook is logged with its name and the
others still run.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from flowrun import __version__
from flowrun.lsp.outline import Outline
from flowrun.lsp.protocol import converter
from flowrun.lsp.rpc import FlowrunProtocol
from flowrun.lsp.settings import Settings
from flowrun.lsp.uris import path_to_uri, uri_to_path
from flowrun.validate.workspace import Facts

if TYPE_CHECKING:
    # Only for types: services.py imports them (and this module) when the server starts.
    from flowrun.history.interface import HistoryBackend
    from flowrun.runs.service import RunService

__all__ = ["DocumentState", "FlowrunServer", "build_server", "path_to_uri", "uri_to_path"]

log = logging.getLogger(__name__)

DEFAULT_FEATURES: tuple[str, ...] = (
    "flowrun.lsp.diagnostics",
    "flowrun.lsp.watcher",
    "flowrun.lsp.python_env",
    "flowrun.lsp.codelens",
    "flowrun.lsp.symbols",
    "flowrun.lsp.navigation",
    "flowrun.lsp.hover",
    "flowrun.lsp.completion",
    "flowrun.lsp.code_actions",
    "flowrun.lsp.runs",
    "flowrun.lsp.history",
    "flowrun.lsp.changed_marks",
    "flowrun.lsp.testing",
    "flowrun.lsp.pins",
    "flowrun.lsp.debugger",
)

Hook = Callable[[], Awaitable[None]]
STARTUP_GRACE = 15.0
DocumentListener = Callable[["DocumentState"], None]
RunEventListener = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class DocumentState:
    """The last validation of one workflow file (open in the editor or not).

    `outline` is the last good one while the text does not load (completion keeps working
    in a half-typed file).
    """

    uri: str
    path: Path
    text: str
    outline: Outline
    facts: Facts | None = None  # for the workspace rules (duplicate ids, route conflicts)


class Checker(Protocol):
    """Validates a document now (the `diagnostics` feature), for requests that need it."""

    async def check_now(self, uri: str) -> None: ...


class FlowrunServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "flowrun",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            converter_factory=converter,
            protocol_cls=FlowrunProtocol,
        )
        self.settings = Settings()
        self.root: Path | None = None
        self.store: HistoryBackend | None = None
        self.runs: RunService | None = None
        self.documents: dict[str, DocumentState] = {}
        self.checker: Checker | None = None
        self.active_runs: dict[str, str] = {}  # execution id → uri
        self.document_listeners: list[DocumentListener] = []
        self.run_event_listeners: list[RunEventListener] = []
        self.ready = asyncio.Event()
        self._diagnostics: dict[tuple[str, str], list[types.Diagnostic]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._initialized_hooks: list[tuple[str, Hook]] = []
        self._shutdown_hooks: list[tuple[str, Hook]] = []
        self._closed = False
        self._startup: asyncio.Task[Any] | None = None
        self._closing: asyncio.Future[None] | None = None

    # -- background tasks -------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `coro` in the background, keep a reference, log its failure."""
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("Background task %s failed", task.get_name(), exc_info=exc)

    # -- lifecycle ----------------------------------------------------------------------

    def on_initialized(self, name: str, hook: Hook) -> None:
        self._initialized_hooks.append((name, hook))

    def on_shutdown(self, name: str, hook: Hook) -> None:
        self._shutdown_hooks.append((name, hook))

    def start(self, services: Hook) -> None:
        """Start the services, then the features, in a task a `shutdown` cannot cancel."""

        async def startup() -> None:
            try:
                await services()
            except Exception:
                log.exception("Start-up failed: running workflows is not available")
            finally:
                self.ready.set()
            if not self._closed:
                await _call_hooks(self._initialized_hooks)

        self._startup = self.spawn(startup(), name="startup")

    async def close(self) -> None:
        """Stop every run, record it, and release the services.

        Every caller (shutdown, exit, stdin closed, SIGTERM) awaits the same work, and a caller
        being cancelled does not cut it short.
        """
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        self._closed = True
        if self._startup is not None and not self._startup.done():
            # Let start-up finish so nothing it opens (the store) outlives the daemon.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._startup), STARTUP_GRACE)
        await _call_hooks(list(reversed(self._shutdown_hooks)))
        for task in list(self._tasks):
            task.cancel()

    # -- documents ----------------------------------------------------------------------

    def document_text(self, uri: str) -> str | None:
        """The editor's text of an open document, else the file on disk, else None."""
        document = self.workspace.text_documents.get(uri)
        if document is not None:
            return str(document.source)
        path = uri_to_path(uri)
        try:
            return path.read_text(encoding="utf-8") if path else None
        except (OSError, UnicodeDecodeError):
            return None

    def check_position(self, uri: str, position: types.Position) -> None:
        """-32602 naming the field for a position past the end of the document."""
        text = self.document_text(uri)
        lines = text.count("\n") + 1 if text is not None else 0
        if text is not None and position.line >= lines:
            raise JsonRpcInvalidParams(
                f"params.position.line: line {position.line} is past the end of {uri} "
                f"({lines} lines)"
            )

    def is_open(self, uri: str) -> bool:
        return uri in self.workspace.text_documents

    def update_document(
        self, uri: str, text: str, outline: Outline, facts: Facts | None = None
    ) -> None:
        path = uri_to_path(uri) or Path(uri)
        previous = self.documents.get(uri)
        if not outline.parsed and previous is not None:
            outline = previous.outline  # the last good positions while the YAML is broken
        state = DocumentState(uri=uri, path=path, text=text, outline=outline, facts=facts)
        self.documents[uri] = state
        for listener in self.document_listeners:
            listener(state)

    def forget_document(self, uri: str) -> None:
        self.documents.pop(uri, None)
        for key in [key for key in self._diagnostics if key[1] == uri]:
            del self._diagnostics[key]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    async def outline(self, uri: str, *, fresh: bool = True) -> Outline | None:
        """Positions in `uri`; the last good ones while the YAML is broken.

        With `fresh`, a text newer than the last validation is validated first (in the
        worker: other requests go on meanwhile); without it, the last good outline is enough.
        """
        text = self.document_text(uri)
        if text is None:
            return None
        state = self.documents.get(uri)
        wanted = fresh or (state is not None and not state.outline.parsed)  # none good yet
        stale = state is None or (wanted and state.text != text)
        if stale and self.checker is not None:
            await self.checker.check_now(uri)
            state = self.documents.get(uri)
        return state.outline if state is not None else None

    def workflow_roots(self) -> list[Path]:
        folders = [uri_to_path(f.uri) for f in self.workspace.folders.values()]
        roots = [path for path in folders if path is not None]
        if not roots and self.root is not None:
            roots = [self.root]
        return roots

    # -- diagnostics --------------------------------------------------------------------

    def set_diagnostics(self, source: str, uri: str, items: Sequence[types.Diagnostic]) -> None:
        self._diagnostics[(source, uri)] = list(items)

    def clear_diagnostics(self, source: str, uri: str) -> bool:
        """Forget the diagnostics of `source` for `uri`; True if there were any."""
        return bool(self._diagnostics.pop((source, uri), None))

    def sync_diagnostics(self, uri: str) -> None:
        items = [d for (_, key), diags in self._diagnostics.items() if key == uri for d in diags]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=items)
        )

    # -- client helpers -----------------------------------------------------------------

    def notify(self, method: str, payload: dict[str, Any]) -> None:
        try:
            self.protocol.notify(method, payload)
        except Exception:  # the client may be gone while we shut down
            log.debug("Could not send %s", method, exc_info=True)

    def show_error(self, message: str) -> None:
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=message)
        )

    def show_warning(self, message: str) -> None:
        log.warning("%s", message)
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=message)
        )

    def refresh_code_lenses(self) -> None:
        workspace = self.client_capabilities.workspace
        lens = workspace.code_lens if workspace else None
        if lens is not None and lens.refresh_support:
            self.spawn(self._refresh_code_lenses(), name="codelens-refresh")

    async def _refresh_code_lenses(self) -> None:
        try:
            await self.workspace_code_lens_refresh_async(None)
        except Exception as exc:  # an editor that advertised refresh but refuses it
            log.debug("workspace/codeLens/refresh failed: %s", exc)


async def _call_hooks(hooks: Iterable[tuple[str, Hook]]) -> None:
    for name, hook in hooks:
        try:
            await hook()
        except Exception:
            log.exception("Feature %s failed", name)


def build_server(features: Sequence[str] = DEFAULT_FEATURES) -> FlowrunServer:
    server = FlowrunServer()
    # Core first: configuration and services must exist before features start.
    importlib.import_module("flowrun.lsp.services").setup(server)
    for name in features:
        importlib.import_module(name).setup(server)
    return server
