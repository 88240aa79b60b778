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
            "flowrun.installDependencies",
            "flowrun.runFromNode",
            "flowrun.runTest",
            "flowrun.stop",
        ]
    finally:
        await session.stop()
