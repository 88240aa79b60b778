"""One owner for where the history lives (issue 13.3), and symbolic links (issue 12.12)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowrun.cli.command import db_location
from flowrun.history.location import HistoryError, history_location
from flowrun.history.store import HistoryStore
from flowrun.lsp.settings import Settings

FLOW = "version: 1\nid: tiny\nnodes:\n  - {id: a, type: transform, with: {value: 1}}\n"


def test_the_editor_and_the_cli_pick_the_same_file(tmp_path: Path) -> None:
    """The editor opened a sub-folder of a repository: both use the repository's history."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    sub = repo / "flows"
    sub.mkdir()
    workflow = sub / "x.workflow.yml"
    workflow.write_text(FLOW)
    expected = repo / ".flowrun" / "history.sqlite3"
    assert Settings().history_file(sub) == expected  # the language server
    assert history_location(workflow) == expected  # `flowrun run flows/x.workflow.yml`
    assert history_location(sub) == expected  # `flowrun history` from that folder


def test_an_explicit_location_wins_and_is_relative_to_the_start(tmp_path: Path) -> None:
    assert history_location(tmp_path, "/abs/h.db") == Path("/abs/h.db")
    assert history_location(tmp_path, "rel/h.db") == tmp_path / "rel" / "h.db"
    assert Settings(history_path="rel/h.db").history_file(tmp_path) == tmp_path / "rel" / "h.db"


def test_a_postgresql_url_is_kept_as_it_is_and_wins_in_the_editor(tmp_path: Path) -> None:
    url = "postgresql://team@db.internal:5432/flowrun"
    assert history_location(tmp_path, url) == url
    assert db_location(url) == url  # `--db`: not folded into a Path
    assert db_location("rel/h.db") == Path("rel/h.db")
    both = Settings(history_path="h.db", history_url=url)
    assert both.merged({"historyUrl": url}).history_file(tmp_path) == url


async def test_a_link_to_a_missing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".flowrun").mkdir()
    outside = tmp_path / "elsewhere" / "h.sqlite3"
    link = tmp_path / ".flowrun" / "history.sqlite3"
    link.symlink_to(outside)
    with pytest.raises(HistoryError, match=r"symbolic link to .* which does not exist"):
        await HistoryStore.open(link)
    assert not outside.exists() and not outside.parent.exists()


async def test_a_dangling_flowrun_folder_is_refused_not_skipped(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".flowrun").symlink_to(tmp_path / "gone")
    path = history_location(tmp_path)
    assert path == tmp_path / ".flowrun" / "history.sqlite3"
    with pytest.raises(HistoryError, match=r"history folder .* symbolic link"):
        await HistoryStore.open(path)
    assert not (tmp_path / "gone").exists()


async def test_a_linked_flowrun_folder_is_used_and_said(tmp_path: Path) -> None:
    real = tmp_path / "disk" / "flowrun-data"
    real.mkdir(parents=True)
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / ".flowrun").symlink_to(real)
    store = await HistoryStore.open(history_location(tmp_path / "ws"))
    await store.close()
    assert (real / "history.sqlite3").exists()
    assert any(f"history is written to {real}" in notice for notice in store.notices)


def test_flowrun_run_refuses_a_broken_link_with_a_message(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".flowrun").mkdir()
    (tmp_path / ".flowrun" / "history.sqlite3").symlink_to(tmp_path / "nowhere.sqlite3")
    (tmp_path / "t.workflow.yml").write_text(FLOW)
    done = subprocess.run(
        [sys.executable, "-m", "flowrun", "run", "t.workflow.yml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "symbolic link" in done.stderr
    assert not (tmp_path / "nowhere.sqlite3").exists()
