from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lsp.harness import Session, start_session


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
async def session(workspace: Path) -> AsyncIterator[Session]:
    """A server started on the (possibly empty) workspace the test filled before using it."""
    started = await start_session(workspace)
    try:
        yield started
    finally:
        await started.stop()
