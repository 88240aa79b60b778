"""Lifecycle: capabilities, start-up, shutdown."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from lsp.harness import start_session


async def test_capabilities(workspace: Path) -> None:
    session = await start_session(workspace)
    try:
        caps = session.result.capabilities
        assert session.result.server_info is not None
        assert session.result.server_info.name == "flowrun"
        assert caps.code_lens_provider is not None
        assert caps.document_symbol_provider
        assert caps.definition_provider
        assert caps.references_provider
        assert caps.hover_provider
        assert caps.completion_provider is not None
        assert "." in (caps.completion_provider.trigger_characters or [])
        assert isinstance(caps.code_action_provider, types.CodeActionOptions)
        assert caps.execute_command_provider is not None
        assert sorted(caps.execute_command_provider.commands) == [
            "flowrun.addAsTest",
            "flowrun.installDependencies",
            "flowrun.pinOutput",
            "flowrun.repin",
            "flowrun.runFromNode",
            "flowrun.runTest",
            "flowrun.stop",
            "flowrun.unpin",
        ]
    finally:
        await session.stop()


async def test_settings_from_initialization_options(workspace: Path) -> None:
    import sys

    from lsp.workflows import QUICK, write

    write(workspace, "quick.workflow.yml", QUICK)
    options = {
        "flowrun": {"historyPath": "custom/h.sqlite3", "maxConcurrentRuns": "many", "python": ""}
    }
    session = await start_session(workspace, init_options=options)
    try:
        env = await session.request("flowrun/pythonEnvironment", {"python": sys.executable})
        assert env["ok"] is True
        assert (workspace / "custom" / "h.sqlite3").exists()
        assert not (workspace / ".flowrun").exists()
    finally:
        await session.stop()


async def test_configuration_changes(workspace: Path) -> None:
    import asyncio
    import sys

    session = await start_session(workspace, settings={"python": sys.executable})
    try:
        assert (await session.request("flowrun/pythonEnvironment", {}))["ok"] is True
        session.client.set_configuration("/no/such/python", section="flowrun.python")
        session.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=None)
        )
        for _ in range(200):  # the server asks the client again: wait for it to take effect
            env = await session.request("flowrun/pythonEnvironment", {})
            if not env["ok"]:
                break
            await asyncio.sleep(0.05)
        assert env["path"] == "/no/such/python"
        assert env["problems"]
    finally:
        await session.stop()


def test_stdin_from_a_file(workspace: Path, tmp_path: Path) -> None:
    """`flowrun lsp < requests.jsonrpc` works too (stdin that epoll cannot watch)."""
    import json
    import subprocess
    import sys

    def frame(message: dict) -> bytes:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    requests = tmp_path / "requests.jsonrpc"
    requests.write_bytes(
        frame(
            {
                "id": 1,
                "method": "initialize",
                "params": {"capabilities": {}, "rootUri": workspace.as_uri()},
            }
        )
        + frame({"method": "initialized", "params": {}})
        + frame({"id": 2, "method": "shutdown"})
        + frame({"method": "exit"})
    )
    with requests.open("rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "flowrun", "lsp"], stdin=stdin, capture_output=True, timeout=60
        )
    assert done.returncode == 0, done.stderr.decode()
    assert b'"id": 1' in done.stdout and b'"id": 2' in done.stdout
