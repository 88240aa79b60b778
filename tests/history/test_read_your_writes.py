"""Issues 12.8 and 11.6: an event is announced only once the history holds what it says.

Real engine, real RunService, real SQLite; the check reads through a *second* connection, as
another process (the editor asking `flowrun/execution`, `flowrun show`) would.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

from flowrun.history.store import HistoryStore
from flowrun.runs.service import RunService

WIDE = "version: 1\nid: wide\nnodes:\n" + "".join(
    f"  - {{id: n{i:02d}, type: transform, with: {{value: {i}}}}}\n" for i in range(40)
)
LOOP = """\
version: 1
id: loopy
stages:
  - id: retry
    loop: {max_iters: 3, until: "${{ nodes.check.output == 2 }}"}
    nodes:
      - id: check
        type: transform
        with: {value: "${{ loop.iteration }}"}
"""


class Checker:
    """Reads the history from another connection each time an event is announced."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(db, timeout=10)
        self.problems: list[str] = []
        self.checked = 0

    def __call__(self, execution_id: str, event: dict[str, Any]) -> None:
        name = event["event"]
        self.checked += 1
        if name == "execution_started":
            # running, or already further (the announcement may lag the run; never lead it)
            found = self.execution_status(execution_id)
            self.expect(execution_id, event, found not in (None, "queued"))
        elif name == "node_started":
            found = self.node_status(execution_id, event)
            self.expect(execution_id, event, found is not None)
        elif name == "node_finished":
            self.expect(
                execution_id, event, self.node_status(execution_id, event) == event["status"]
            )
        elif name == "execution_finished":
            self.expect(execution_id, event, self.execution_status(execution_id) == event["status"])

    def expect(self, execution_id: str, event: dict[str, Any], ok: bool) -> None:
        if not ok:
            status = self.execution_status(execution_id)
            self.problems.append(
                f"{event['event']} {event.get('node')}: not in the history ({status})"
            )

    def execution_status(self, execution_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT status FROM executions WHERE id = ?", (execution_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def node_status(self, execution_id: str, event: dict[str, Any]) -> str | None:
        row = self.conn.execute(
            "SELECT status FROM node_executions WHERE execution_id = ? AND node_id = ? "
            "AND iteration = ? ORDER BY attempt DESC LIMIT 1",
            (execution_id, event["node"], event.get("iteration") or 0),
        ).fetchone()
        return None if row is None else str(row[0])


async def run_checked(tmp_path: Path, text: str) -> Checker:
    db = tmp_path / "history.sqlite3"
    store = await HistoryStore.open(db)
    checker = Checker(db)
    service = RunService(store, python=sys.executable, on_event=checker)
    try:
        path = tmp_path / "w.workflow.yml"
        path.write_text(text)
        for _ in range(3):
            execution_id = await service.execute(path)
            await service.wait(execution_id)
    finally:
        await service.shutdown()
        await store.close()
        checker.conn.close()
    return checker


async def test_every_announced_event_is_already_readable(tmp_path: Path) -> None:
    checker = await run_checked(tmp_path, WIDE)
    assert checker.checked >= 3 * 82
    assert checker.problems == []


async def test_loop_iterations_are_readable_when_announced(tmp_path: Path) -> None:
    checker = await run_checked(tmp_path, LOOP)
    assert checker.problems == []


async def test_wait_returns_after_the_last_announcement(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    store = await HistoryStore.open(db)
    seen: list[str] = []
    service = RunService(
        store, python=sys.executable, on_event=lambda _eid, event: seen.append(event["event"])
    )
    try:
        path = tmp_path / "w.workflow.yml"
        path.write_text(WIDE)
        execution_id = await service.execute(path)
        assert await service.wait(execution_id) == "succeeded"
        assert seen[-1] == "execution_finished"
    finally:
        await service.shutdown()
        await store.close()
