"""Issue 12.9: what `flowrun run` showed as done is in the history after `kill -9` of it.

The real CLI in a subprocess (piped, so it prints one plain line per node end), killed with
SIGKILL right after it printed a node as succeeded; then the history file is read directly.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

NODES = 120


def chain(nodes: int) -> str:
    lines = ["version: 1", "id: chain", "nodes:"]
    for i in range(nodes):
        needs = f", needs: [n{i - 1:03d}]" if i else ""
        lines.append(f"  - {{id: n{i:03d}, type: transform, with: {{value: {i}}}{needs}}}")
    return "\n".join(lines) + "\n"


def run_and_kill(tmp_path: Path, after: int) -> tuple[list[str], Path]:
    """Start `flowrun run`, SIGKILL it once it printed `after` nodes as succeeded."""
    workflow = tmp_path / "chain.workflow.yml"
    workflow.write_text(chain(NODES))
    db = tmp_path / f"history-{after}.sqlite3"
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowrun", "run", str(workflow), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    shown: list[str] = []
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "✓" and parts[2] == "succeeded":
                shown.append(parts[1])
                if len(shown) >= after:
                    break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return shown, db


def recorded(db: Path) -> dict[str, str]:
    deadline = time.monotonic() + 5
    while True:
        try:
            conn = sqlite3.connect(db, timeout=10)
            try:
                rows = conn.execute("SELECT node_id, status FROM node_executions").fetchall()
            finally:
                conn.close()
            return {str(node): str(status) for node, status in rows}
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("after", [5, 30, 70])
def test_nodes_shown_as_succeeded_survive_kill_9(tmp_path: Path, after: int) -> None:
    shown, db = run_and_kill(tmp_path, after)
    assert len(shown) == after, "the run ended before the kill"
    stored = recorded(db)
    lost = [node for node in shown if stored.get(node) != "succeeded"]
    assert lost == [], f"shown as succeeded but recorded {[stored.get(n) for n in lost]}"
