"""Issue 12.11: a damaged history never gives a traceback nor stops a run; a read-only one can
still be listed. Real files, real CLI processes; pages overwritten at several offsets."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowrun.history.store import HistoryStore

PAGE = 4096
FLOW = "version: 1\nid: tiny\nnodes:\n  - {id: a, type: transform, with: {value: 1}}\n"


def flowrun(*args: str, cwd: Path, user: int | None = None) -> subprocess.CompletedProcess[str]:
    prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] if user else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "flowrun", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**_environment(measured=user is None), "NO_COLOR": "1", "COLUMNS": "200"},
    )  # fmt: skip


def _environment(measured: bool) -> dict[str, str]:
    """Another user cannot write this run's coverage data: its process goes unmeasured."""
    return {k: v for k, v in os.environ.items() if measured or not k.startswith("COVERAGE_")}


async def fill(db: Path, executions: int = 150) -> None:
    store = await HistoryStore.open(db)
    try:
        plan = {"stages": [{"id": None, "loop": False, "nodes": [{"id": "a", "type": "shell"}]}]}
        for i in range(executions):
            eid = f"{i:04d}" + "ab" * 14
            await store.create_execution(
                execution_id=eid, workflow_id=f"wf{i % 3}", file="/ws/x.yml",
                trigger={"method": "POST", "path": "/h", "body": {"i": i}}, inputs={"i": i},
            )  # fmt: skip
            await store.record_event(eid, {"event": "execution_started", "plan": plan})
            node = {"node": "a", "stage": None, "iteration": None, "attempt": 1}
            await store.record_event(eid, {"event": "node_started", **node, "input": {"i": i}})
            await store.record_event(
                eid, {"event": "node_log", **node, "stream": "stdout", "text": "x" * 300}
            )
            await store.record_event(
                eid, {"event": "node_finished", **node, "status": "succeeded", "output": i}
            )
            await store.finish(eid, status="succeeded", outputs={"i": i}, error=None)
    finally:
        await store.close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


@pytest.fixture(scope="module")
def pristine() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="flowrun-damage-"))
    db = folder / "history.sqlite3"
    asyncio.run(fill(db))
    yield db
    shutil.rmtree(folder)


def damaged_copy(pristine: Path, folder: Path, page: int) -> Path:
    folder.mkdir()
    db = folder / "history.sqlite3"
    shutil.copy(pristine, db)
    pages = db.stat().st_size // PAGE
    with db.open("r+b") as handle:
        handle.seek(min(page, pages - 1) * PAGE)
        handle.write(random.Random(page).randbytes(PAGE))
    return db


PAGES = [0, 1, 2, 5, 20, 60, 10_000]  # header, schema, early tables, indexes, the last page


@pytest.mark.parametrize("page", PAGES)
def test_a_damaged_page_never_stops_a_run(pristine: Path, tmp_path: Path, page: int) -> None:
    db = damaged_copy(pristine, tmp_path / "ws", page)
    (tmp_path / "ws" / "t.workflow.yml").write_text(FLOW)
    done = flowrun("run", "t.workflow.yml", "--db", str(db), cwd=tmp_path / "ws")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    moved = sorted(db.parent.glob("history.sqlite3.corrupt-*"))
    for path in moved:
        assert str(path) in done.stderr  # the user is told where the damaged file went
    listing = flowrun("history", "--db", str(db), "--limit", "500", cwd=tmp_path / "ws")
    assert "Traceback" not in listing.stderr, listing.stderr
    if listing.returncode == 0:
        assert "tiny" in listing.stdout  # the run was recorded, in the old or a fresh file
    else:
        assert "damaged" in listing.stderr and "flowrun run" in listing.stderr


@pytest.mark.parametrize("page", PAGES)
def test_flowrun_history_explains_a_damaged_file(pristine: Path, tmp_path: Path, page: int) -> None:
    db = damaged_copy(pristine, tmp_path / "ws", page)
    for args in (["history", "--limit", "500"], ["show", "0149"], ["history", "wf1"]):
        done = flowrun(*args, "--db", str(db), cwd=tmp_path / "ws")
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode in (0, 1)
        if done.returncode == 1 and "No execution" not in done.stderr:
            assert "damaged" in done.stderr


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv")
def test_a_read_only_history_can_still_be_listed(pristine: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="flowrun-ro-"))
    try:
        folder.chmod(0o755)
        db = folder / "history.sqlite3"
        shutil.copy(pristine, db)
        db.chmod(0o444)
        user = 65534 if os.geteuid() == 0 else None  # root writes any file: be nobody
        if user is not None and flowrun("--help", cwd=folder, user=user).returncode != 0:
            pytest.skip("user nobody cannot read this checkout (its folder is private)")
        done = flowrun("history", "--db", str(db), "--limit", "3", cwd=folder, user=user)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        assert "0149" in done.stdout
        assert "read-only" in done.stderr
        shown = flowrun("show", "0149", "--db", str(db), cwd=folder, user=user)
        assert shown.returncode == 0, shown.stderr
        assert not (folder / "history.sqlite3-wal").exists() or user is None
    finally:
        shutil.rmtree(folder)
