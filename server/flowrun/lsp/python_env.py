"""The selected Python and the workflows' `requires`: `missing-dependency` warnings,
`flowrun/pythonEnvironment`, `flowrun/installDependencies` and its command.

The warnings are kept under the ("deps", uri) key so they never erase the validator's. The
answers of the interpreter are cached per (interpreter, requires) in `Requirements`, so an
edit does not start a Python process; the cache is dropped when packages are installed or
the interpreter changes.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from flowrun.lsp import protocol as p
from flowrun.lsp.convert import SOURCE
from flowrun.lsp.runs import as_command, first
from flowrun.lsp.server import DocumentState, FlowrunServer
from flowrun.lsp.services import server_ready
from flowrun.pyenv import (
    display_command,
    inspect_interpreter,
    install_packages,
    missing_packages,
    pip_install_command,
)
from flowrun.validate.codes import MISSING_DEPENDENCY

SOURCE_KEY = "deps"

Missing = tuple[str, list[str]] | None  # (interpreter path, missing requirements)


def requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~\[;@ ]", requirement.strip(), maxsplit=1)[0]


class Requirements:
    """What the selected interpreter lacks of each document's `requires`."""

    def __init__(self, server: FlowrunServer) -> None:
        self.server = server
        self._cache: dict[tuple[str | None, tuple[str, ...]], Missing] = {}

    def forget(self) -> None:
        self._cache.clear()

    async def missing_for(self, python: str | None, requires: list[str]) -> Missing:
        """(interpreter path, missing requirements), or None without a usable interpreter."""
        key = (python, tuple(requires))
        if key not in self._cache:
            info = await inspect_interpreter(python)
            missing = await missing_packages(info.path, requires) if info.ok else None
            self._cache[key] = None if missing is None else (info.path, list(missing))
        return self._cache[key]

    def on_document(self, state: DocumentState) -> None:
        if state.outline.requires:
            self.server.spawn(self.check_document(state), name=f"deps {state.uri}")
        elif self.server.clear_diagnostics(SOURCE_KEY, state.uri):
            self.server.sync_diagnostics(state.uri)

    async def check_document(self, state: DocumentState) -> None:
        requires = [name for name, _ in state.outline.requires]
        found = await self.missing_for(self.server.settings.python, requires)
        if self.server.documents.get(state.uri) is not state:
            return  # a newer version of the document is being checked
        diagnostics = []
        if found is not None:
            python, missing = found
            names = {requirement_name(item) for item in missing} | set(missing)
            for requirement, rng in state.outline.requires:
                if requirement in names or requirement_name(requirement) in names:
                    diagnostics.append(_diagnostic(requirement, rng, python))
        self.server.set_diagnostics(SOURCE_KEY, state.uri, diagnostics)
        self.server.sync_diagnostics(state.uri)

    def recheck_all(self) -> None:
        self.forget()
        for state in list(self.server.documents.values()):
            self.on_document(state)


def setup(server: FlowrunServer) -> None:
    requirements = Requirements(server)
    server.document_listeners.append(requirements.on_document)

    @server.feature(p.PYTHON_ENVIRONMENT)
    async def python_environment(params: Any) -> dict[str, Any]:
        args = p.parse(p.PythonEnvironmentParams, params)
        return (await describe_python(server, args.python)).wire()

    @server.feature(p.INSTALL_DEPENDENCIES)
    async def install_dependencies(params: Any) -> dict[str, Any]:
        return (await install(server, requirements, p.parse(p.DocumentRef, params))).wire()

    @server.command(p.CMD_INSTALL_DEPENDENCIES)
    async def install_command(*args: Any) -> Any:
        ref = p.parse(p.DocumentRef, first(args))
        return await as_command(server, install(server, requirements, ref))


def _diagnostic(requirement: str, rng: types.Range, python: str) -> types.Diagnostic:
    command = display_command(pip_install_command(python, [requirement]))
    fix = p.Fix(title="Install missing dependencies", command=p.CMD_INSTALL_DEPENDENCIES)
    return types.Diagnostic(
        range=rng,
        severity=types.DiagnosticSeverity.Warning,
        code=MISSING_DEPENDENCY,
        source=SOURCE,
        message=(
            f"Package '{requirement}' is not installed in {python}. "
            f"Use the quick fix to install it, or run: {command}"
        ),
        data=p.DiagnosticData(fix=fix).wire(),
    )


async def describe_python(server: FlowrunServer, python: str | None) -> p.PythonEnvironmentResult:
    await server_ready(server)
    info = await inspect_interpreter(python or server.settings.python)
    missing: list[str] = []
    if info.ok:
        requires = sorted(
            {name for state in server.documents.values() for name, _ in state.outline.requires}
        )
        if requires:
            missing = list(await missing_packages(info.path, requires))
    return p.PythonEnvironmentResult(
        path=info.path, version=info.version, ok=info.ok, problems=list(info.problems),
        missing=missing,
    )  # fmt: skip


async def install(
    server: FlowrunServer, requirements: Requirements, ref: p.DocumentRef
) -> p.InstallDependenciesResult:
    await server_ready(server)
    outline = await server.outline(ref.uri)
    if outline is None:
        raise JsonRpcInvalidParams(f"uri: no workflow file at {ref.uri}")
    info = await inspect_interpreter(server.settings.python)
    if not info.ok:
        raise p.flowrun_error(
            {
                "type": "PythonNotFound",
                "message": f"No usable Python at {info.path}: {'; '.join(info.problems)}",
                "suggestion": "Select a Python ≥ 3.11 interpreter (flowrun.python).",
            }
        )
    requirements.forget()
    found = await requirements.missing_for(info.path, [name for name, _ in outline.requires])
    missing = found[1] if found else []
    if not missing:
        return p.InstallDependenciesResult(installed=[], output="Nothing to install.")
    ok, output = await _install_with_progress(server, info.path, missing)
    requirements.recheck_all()
    if not ok:
        command = display_command(pip_install_command(info.path, missing))
        raise p.flowrun_error(
            {
                "type": "DependencyError",
                "message": f"pip could not install {', '.join(missing)}: {output[-500:]}",
                "suggestion": f"Run it yourself to see why: {command}",
            }
        )
    return p.InstallDependenciesResult(installed=missing, output=output)


async def _install_with_progress(
    server: FlowrunServer, python: str, missing: list[str]
) -> tuple[bool, str]:
    window = server.client_capabilities.window
    token = f"flowrun-install-{uuid.uuid4().hex}"
    progress = bool(window and window.work_done_progress)
    if progress:
        try:
            await server.work_done_progress.create_async(token)
        except Exception:
            progress = False
    if progress:
        server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title="Installing Python packages", message=", ".join(missing), cancellable=False
            ),
        )
    try:
        ok, output = await install_packages(python, missing)
    finally:
        if progress:
            server.work_done_progress.end(token, types.WorkDoneProgressEnd(message="Done"))
    return bool(ok), str(output)
