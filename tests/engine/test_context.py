"""NodeContext: logs, the log cap, run_process capture limits and kill on cancel."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from flowrun_engine import context
from flowrun_engine.context import NodeContext


async def test_run_process_caps_captured_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "CAPTURE_LIMIT", 10)
    c = NodeContext()
    result = await c.run_process(["sh", "-c", "printf 'abcdefghijklmnop'; printf 'e' >&2"])
    assert result.exit_code == 0
    assert result.stdout == "abcdefghij\n… [output truncated: 6 more bytes not kept]"
    assert result.stderr == "e"
    assert c.logs[0] in (("stdout", "abcdefghijklmnop"), ("stderr", "e"))


async def test_long_lines_are_cut_in_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "LINE_LIMIT", 8)
    c = NodeContext()
    await c.run_process(["sh", "-c", "printf '0123456789abcdef\\nshort\\n'"])
    assert c.logs[0] == ("stdout", "01234567… [line cut at 8 characters]")
    assert ("stdout", "short") in c.logs


async def test_log_cap_then_one_truncation_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "LOG_LINES_LIMIT", 3)
    c = NodeContext()
    for i in range(10):
        c.log("stdout", f"l{i}")
    assert [t for _, t in c.logs[:3]] == ["l0", "l1", "l2"]
    assert c.logs[3][0] == "info" and c.logs[3][1].startswith("… output truncated")
    assert len(c.logs) == 4 and c.logs_exhausted


async def test_closed_context_drops_logs() -> None:
    c = NodeContext()
    c.close()
    c.log("stdout", "late")
    assert c.logs == []


async def test_stdin_that_is_not_read(tmp_path: Path) -> None:
    c = NodeContext(cwd=str(tmp_path))
    result = await c.run_process(["true"], stdin=b"x" * 1_000_000)
    assert result.exit_code == 0


async def test_cancel_kills_the_process_and_its_children() -> None:
    c = NodeContext()
    task = asyncio.create_task(c.run_process(["sh", "-c", "sleep 300 & echo $!; wait"]))
    while not c.logs:
        await asyncio.sleep(0.01)
    pid = int(c.logs[0][1])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_defaults() -> None:
    c = NodeContext()
    assert c.node_id == "node" and c.attempt == 1 and c.secrets == {} and "PATH" in c.env
    assert c.token.startswith("node:1:") and c.token != NodeContext().token


async def test_a_background_process_ends_with_the_node_and_does_not_block_it() -> None:
    c = NodeContext()
    result = await c.run_process(["sh", "-c", "echo started; sleep 30 & echo $!"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "started"
    assert not _alive(int(lines[1]))
    assert ("info", "… ended 1 process the node left running") in c.logs


async def test_endless_line_is_logged_in_pieces_without_splitting_characters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(context, "LINE_LIMIT", 8)
    c = NodeContext()
    await c.run_process(["sh", "-c", "printf 'aéééééééééé'; sleep 0.2; printf 'xyz'"])
    text = "".join(t for _, t in c.logs)
    assert text == "aéééééééééé" + "xyz"
    assert all("\ufffd" not in t for _, t in c.logs)
