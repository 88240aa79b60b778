"""Watch the workspace folders on disk (watchfiles) and keep diagnostics in step.

A workflow file added or changed on disk is re-validated unless it is open (then the editor's
text is what counts); a deleted one loses its diagnostics. A pin file
(`.flowrun/pins/<workflow-id>/<node-id>.json`) added, changed or deleted re-validates the files
of that workflow id, open or not, so their `stale-pin` warnings follow (`lsp/pins.py`).
Started in `initialized`, stopped at shutdown, and restarted over the new folders when the
workspace folders change (the added folders are validated, the removed ones' diagnostics
cleared).

A folder added on disk is scanned for such files: the operating system watches a new folder
only after it has been created, so files a checkout writes into it at once raise no event.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from lsprotocol import types
from watchfiles import Change, DefaultFilter, awatch

from flowrun.lsp.diagnostics import is_workflow, validate_uri, validate_workspace
from flowrun.lsp.server import FlowrunServer, path_to_uri, uri_to_path

log = logging.getLogger(__name__)

IGNORED_DIRS = (".git", "node_modules", ".flowrun", ".venv", "venv", "__pycache__")


class WorkflowFilter(DefaultFilter):
    def __init__(self) -> None:
        super().__init__(ignore_dirs=(*DefaultFilter.ignore_dirs, *IGNORED_DIRS))

    def __call__(self, change: Change, path: str) -> bool:
        if is_pin_file(path):
            return True
        if change == Change.added and os.path.isdir(path):
            return self.may_hold_watched_files(path)
        return is_workflow(path) and super().__call__(change, path)

    def may_hold_watched_files(self, folder: str) -> bool:
        """A folder to scan: not an ignored one, except `.flowrun/pins/<workflow-id>` and above."""
        parts = Path(folder).parts
        if ".flowrun" in parts:
            below = parts[parts.index(".flowrun") + 1 :]
            return len(below) <= 2 and below[:1] in ((), ("pins",))
        return super().__call__(Change.added, folder)

    def files_in(self, folder: str) -> Iterator[str]:
        """The watched files already inside a folder that has just been added."""
        for parent, folders, files in os.walk(folder):
            folders[:] = [
                f for f in folders if self.may_hold_watched_files(os.path.join(parent, f))
            ]
            for name in files:
                path = os.path.join(parent, name)
                if self(Change.added, path):
                    yield path


def is_pin_file(path: str) -> bool:
    parts = Path(path).parts
    return path.endswith(".json") and parts[-4:-2] == (".flowrun", "pins")


def setup(server: FlowrunServer) -> None:
    stop = asyncio.Event()  # the running watcher's; replaced when the folders change

    def start() -> None:
        roots = [root for root in server.workflow_roots() if root.is_dir()]
        if roots:
            server.spawn(watch(server, roots, stop), name="watcher")

    async def start_watching() -> None:
        start()

    async def halt() -> None:
        stop.set()

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def folders_changed(params: types.DidChangeWorkspaceFoldersParams) -> None:
        # pygls has already updated server.workspace.folders
        nonlocal stop
        for folder in params.event.removed:
            forget_folder(server, folder.uri)
        stop.set()
        stop = asyncio.Event()
        start()
        added = [uri_to_path(folder.uri) for folder in params.event.added]
        await validate_workspace(server, [path for path in added if path is not None])

    server.on_initialized("watcher", start_watching)
    server.on_shutdown("watcher", halt)


def forget_folder(server: FlowrunServer, folder_uri: str) -> None:
    """A folder left the workspace: its files' diagnostics go with it (unless open)."""
    prefix = folder_uri.rstrip("/") + "/"
    for uri in [uri for uri in server.documents if uri.startswith(prefix)]:
        if not server.is_open(uri):
            server.forget_document(uri)


async def watch(server: FlowrunServer, roots: list[Path], stop: asyncio.Event) -> None:
    announced = False
    accepts = WorkflowFilter()
    async for changes in awatch(
        *roots,
        watch_filter=accepts,
        stop_event=stop,
        debounce=400,
        step=30,
        rust_timeout=1000,
        yield_on_timeout=True,  # a first (empty) batch tells us the watches are in place
    ):
        if not announced:
            announced = True
            folders = ", ".join(str(root) for root in roots)
            server.window_log_message(
                types.LogMessageParams(type=types.MessageType.Info, message=f"Watching {folders}")
            )
        for change, raw in sorted(with_added_folders_scanned(changes, accepts), key=lambda c: c[1]):
            await on_change(server, change, Path(raw))


def with_added_folders_scanned(
    changes: set[tuple[Change, str]], accepts: WorkflowFilter
) -> set[tuple[Change, str]]:
    """The changes with each added folder replaced by the watched files found inside it."""
    files = {(change, path) for change, path in changes if not os.path.isdir(path)}
    for change, path in changes:
        if change == Change.added and os.path.isdir(path):
            files.update((Change.added, found) for found in accepts.files_in(path))
    return files


async def on_change(server: FlowrunServer, change: Change, path: Path) -> None:
    if is_pin_file(str(path)):
        for state in list(server.documents.values()):
            if state.outline.workflow_id == path.parent.name:
                await validate_uri(server, state.uri)
        return
    uri = path_to_uri(path)
    if server.is_open(uri):
        return
    if change == Change.deleted and not path.exists():
        server.forget_document(uri)
    else:
        await validate_uri(server, uri)
