"""Issue 12.11 over the real language server: a damaged history is explained, never an
internal error, and a run still goes."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from lsp.harness import start_session

FLOW = "version: 1\nid: tiny\nnodes:\n  - {id: a, type: transform, with: {value: 1}}\n"
PAGE = 4096


def damaged_history(root: Path, page: int) -> Path:
    (root / ".git").mkdir()
    db = root / ".flowrun" / "history.sqlite3"
    db.parent.mkdir()
    source = Path(__file__).parents[1] / "history" / "fixtures" / "history-v1.sqlite3"
    shutil.copy(source, db)
    pages = db.stat().st_size // PAGE
    with db.open("r+b") as handle:
        handle.seek(min(page, pages - 1) * PAGE)
        handle.write(random.Random(page).randbytes(PAGE))
    return db


@pytest.mark.parametrize("page", [0, 1, 3])
async def test_a_damaged_history_is_explained_and_runs_go_on(tmp_path: Path, page: int) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    damaged_history(root, page)
    (root / "tiny.workflow.yml").write_text(FLOW)
    session = await start_session(root)
    try:
        try:
            await session.request("flowrun/history", {})
        except JsonRpcException as exc:
            assert exc.code == -32001 and "damaged" in exc.message, (exc.code, exc.message)
        uri = session.uri("tiny.workflow.yml")
        execution_id = (await session.request("flowrun/execute", {"uri": uri}))["executionId"]
        events = await session.events_of(execution_id)
        assert events[-1]["status"] == "succeeded"
        tree = await session.request("flowrun/execution", {"executionId": execution_id})
        assert tree["status"] == "succeeded"
        moved = list((root / ".flowrun").glob("history.sqlite3.corrupt-*"))
        warnings = [m.message for m in session.messages.items]
        for path in moved:
            assert any(str(path) in text for text in warnings)
    finally:
        await session.stop()
