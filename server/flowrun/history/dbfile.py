"""Opening the history file: its folder (with a `.gitignore`), WAL, the schema migrations,
and a file that is not a readable database moved aside for a new one (in a worker thread).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from flowrun.history import migrations
from flowrun.runs.errors import FlowrunError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
DB_DIR = ".flowrun"
_CORRUPT_CODES = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


class HistoryError(FlowrunError):
    type_name = "HistoryError"


def prepare(path: Path) -> list[str]:
    """Create the folder, move a corrupt file aside, set WAL and migrate. Returns notices."""
    _make_folder(path.parent)
    try:
        _migrate_file(path)
        return []
    except sqlite3.DatabaseError as exc:
        if exc.sqlite_errorcode not in _CORRUPT_CODES:
            raise HistoryError(
                f"Cannot open the history database {path}: {exc}.",
                suggestion="Check the file's permissions, or pass --db with another path.",
            ) from exc
        moved = _move_aside(path)
        _migrate_file(path)
        notice = (
            f"The history database {path} could not be read ({exc}); it was moved to "
            f"{moved} and a new, empty history was started."
        )
        log.warning("%s", notice)
        return [notice]


def _make_folder(folder: Path) -> None:
    if folder.is_dir():
        return
    folder.mkdir(parents=True, exist_ok=True)
    if folder.name == DB_DIR:
        (folder / ".gitignore").write_text("*\n")


def _migrate_file(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        # auto_vacuum must precede WAL on a new file (switching to WAL writes its header).
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("PRAGMA journal_mode = WAL")
        migrations.migrate(conn, str(path))
    finally:
        conn.close()


def _move_aside(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{counter}")
    path.replace(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))
    return target
