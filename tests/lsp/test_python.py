"""flowrun/pythonEnvironment, flowrun/installDependencies and `missing-dependency` warnings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from lsp.harness import start_session
from lsp.test_symbols import rng
from lsp.workflows import QUICK, write

REQUIRES = "requires: [yaml_is_not_this, pytest]\n"


async def test_python_environment(workspace: Path) -> None:
    write(workspace, "deps.workflow.yml", REQUIRES + QUICK)
    session = await start_session(workspace, init_options={"python": sys.executable})
    try:
        await session.wait_diagnostics("deps.workflow.yml", lambda d: d != [])
        env = await session.request("flowrun/pythonEnvironment", {})
        assert env["ok"] is True
        assert env["version"].startswith("3.")
        assert env["problems"] == []
        assert env["missing"] == ["yaml_is_not_this"]
        broken = await session.request("flowrun/pythonEnvironment", {"python": "/no/python"})
        assert broken["ok"] is False
        assert broken["problems"]
    finally:
        await session.stop()


async def test_missing_dependency_warning_and_fix(workspace: Path) -> None:
    write(workspace, "deps.workflow.yml", REQUIRES + QUICK)
    session = await start_session(workspace, settings={"python": sys.executable})
    try:
        uri = session.uri("deps.workflow.yml")
        found = await session.wait_diagnostics("deps.workflow.yml", lambda d: d != [])
        [warning] = found
        assert warning.range == rng(0, 11, 0, 27)
        assert warning.severity == types.DiagnosticSeverity.Warning
        assert warning.code == "missing-dependency"
        assert warning.message.startswith(
            f"Package 'yaml_is_not_this' is not installed in {sys.executable}."
        )
        actions = await session.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=warning.range,
                context=types.CodeActionContext(diagnostics=[warning]),
            )
        )
        # lsprotocol's client-side converter reads a CodeAction that has a `command` and no
        # `edit` as a bare Command (the union is ambiguous to it), nesting the CodeAction's
        # command object as text: check that text.
        [action] = list(actions or [])
        assert action.title == "Install missing dependencies"
        assert "'command': 'flowrun.installDependencies'" in str(action.command)
        assert f"'arguments': [{{'uri': '{uri}'}}]" in str(action.command)
        # The run is refused before anything is spawned, saying what to install.
        with pytest.raises(JsonRpcException) as refused:
            await session.request("flowrun/execute", {"uri": uri})
        assert "yaml_is_not_this" in refused.value.message
        session.open("deps.workflow.yml")
        mark = session.diagnostics.mark()
        session.replace("deps.workflow.yml", QUICK, version=2)  # `requires` gone
        assert await session.wait_diagnostics("deps.workflow.yml", lambda d: d == [], mark) == []
    finally:
        await session.stop()


async def test_install_when_nothing_is_missing(workspace: Path) -> None:
    write(workspace, "ok.workflow.yml", "requires: [pytest]\n" + QUICK)
    session = await start_session(workspace, settings={"python": sys.executable})
    try:
        result = await session.request(
            "flowrun/installDependencies", {"uri": session.uri("ok.workflow.yml")}
        )
        assert result == {"installed": [], "output": "Nothing to install."}
    finally:
        await session.stop()


async def test_install_without_a_python(workspace: Path) -> None:
    write(workspace, "ok.workflow.yml", "requires: [pytest]\n" + QUICK)
    session = await start_session(workspace, settings={"python": "/no/such/python"})
    try:
        with pytest.raises(JsonRpcException) as caught:
            await session.request(
                "flowrun/installDependencies", {"uri": session.uri("ok.workflow.yml")}
            )
        assert caught.value.message.startswith("No usable Python at /no/such/python")
    finally:
        await session.stop()


def build_wheel(folder: Path, name: str) -> Path:
    """A minimal pure-Python wheel, so pip can install it with no index at all."""
    import base64
    import hashlib
    import zipfile

    files = {
        f"{name}/__init__.py": "VALUE = 1\n",
        f"{name}-0.1.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n",
        f"{name}-0.1.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{name}-0.1.dist-info/RECORD,,")
    files[f"{name}-0.1.dist-info/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / f"{name}-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


async def test_install_dependencies_offline(workspace: Path, tmp_path: Path) -> None:
    import subprocess

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "flowrun_probe_pkg")
    write(workspace, "deps.workflow.yml", "requires: [flowrun_probe_pkg]\n" + QUICK)
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    session = await start_session(workspace, settings={"python": python}, env=env)
    try:
        uri = session.uri("deps.workflow.yml")
        [warning] = await session.wait_diagnostics("deps.workflow.yml", lambda d: d != [])
        assert warning.code == "missing-dependency"
        mark = session.diagnostics.mark()
        result = await session.command("flowrun.installDependencies", {"uri": uri})
        assert result["installed"] == ["flowrun_probe_pkg"]
        assert "Successfully installed flowrun_probe_pkg" in result["output"]
        assert await session.wait_diagnostics("deps.workflow.yml", since=mark) == []
        kinds = [p.kind for reports in session.client.progress_reports.values() for p in reports]
        assert kinds == ["begin", "end"]
        write(workspace, "other.workflow.yml", "requires: [not_on_the_find_links]\n" + QUICK)
        with pytest.raises(JsonRpcException) as caught:
            await session.request(
                "flowrun/installDependencies", {"uri": session.uri("other.workflow.yml")}
            )
        assert caught.value.message.startswith("pip could not install not_on_the_find_links")
    finally:
        await session.stop()
