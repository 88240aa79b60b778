"""`missing-dependency` warnings: `requires` packages the selected interpreter cannot import.

Daemon only. Kept under the ("deps", uri) key so they never erase the validator's diagnostics.
Answers are cached per (interpreter, requires) so an edit does not start a Python process; the
cache is dropped when packages are installed or the interpreter changes.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from lsprotocol import types

from flowrun.lsp.convert import SOURCE
from flowrun.lsp.protocol import CMD_INSTALL_DEPENDENCIES
from flowrun.lsp.server import DocumentState, FlowrunServer

log = logging.getLogger(__name__)

SOURCE_KEY = "deps"
CODE = "missing-dependency"

_cache: dict[tuple[str | None, tuple[str, ...]], tuple[str, list[str]] | None] = {}


def setup(server: FlowrunServer) -> None:
    def on_document(state: DocumentState) -> None:
        if state.outline.requires:
            server.spawn(check_document(server, state), name=f"deps {state.uri}")
        elif server.clear_diagnostics(SOURCE_KEY, state.uri):
            server.sync_diagnostics(state.uri)

    server.document_listeners.append(on_document)


def requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~\[;@ ]", requirement.strip(), maxsplit=1)[0]


def forget_cache() -> None:
    _cache.clear()


async def missing_for(python: str | None, requires: list[str]) -> tuple[str, list[str]] | None:
    """(interpreter path, missing requirements), or None when there is no usable interpreter."""
    key = (python, tuple(requires))
    if key not in _cache:
        from flowrun.pyenv import inspect_interpreter, missing_packages

        info = await inspect_interpreter(python)
        if not info.ok:
            _cache[key] = None
        else:
            missing = await missing_packages(info.path, requires)
            _cache[key] = (info.path, list(missing))
    return _cache[key]


async def check_document(server: FlowrunServer, state: DocumentState) -> None:
    requires = [name for name, _ in state.outline.requires]
    found = await missing_for(server.settings.python, requires)
    if server.documents.get(state.uri) is not state:
        return  # a newer version of the document is being checked
    diagnostics = []
    if found is not None:
        python, missing = found
        names = {requirement_name(item) for item in missing} | set(missing)
        for requirement, rng in state.outline.requires:
            if requirement in names or requirement_name(requirement) in names:
                diagnostics.append(_diagnostic(requirement, rng, python))
    server.set_diagnostics(SOURCE_KEY, state.uri, diagnostics)
    server.sync_diagnostics(state.uri)


def _diagnostic(requirement: str, rng: types.Range, python: str) -> types.Diagnostic:
    from flowrun.pyenv import display_command, pip_install_command

    command = display_command(pip_install_command(python, [requirement]))
    fix: dict[str, Any] = {
        "title": "Install missing dependencies",
        "edits": [],
        "command": CMD_INSTALL_DEPENDENCIES,
    }
    return types.Diagnostic(
        range=rng,
        severity=types.DiagnosticSeverity.Warning,
        code=CODE,
        source=SOURCE,
        message=(
            f"Package '{requirement}' is not installed in {python}. "
            f"Use the quick fix to install it, or run: {command}"
        ),
        data={"fix": fix},
    )
