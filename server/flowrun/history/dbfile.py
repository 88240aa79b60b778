"""Opening the history file (in a worker thread): its folder (with a `.gitignore`), WAL, the
schema migrations, a damaged file moved aside for a new one, and a read-only file opened for
reading only.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

from flowrun.history import migrations
from flowrun.history.location import DB_DIR, HistoryError, check_links

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
_DAMAGE_CODES = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
__all__ = ["BUSY_TIMEOUT_MS", "HistoryError", "Prepared", "is_damage", "move_aside", "prepare"]


class Prepared:
    """What opening found: notices for the user, and for a file this process may not write,
    the URI that reads it (None: open the path for reading and writing)."""

    def __init__(self, notices: list[str], read_only_uri: str | None = None) -> None:
        self.notices = notices
        self.read_only_uri = read_only_uri


def is_damage(exc: BaseException) -> bool:
    """True for the errors of a file that is not (or no longer) a readable database."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _DAMAGE_CODES
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def prepare(path: Path) -> Prepared:
    """Create the folder, move a damaged file aside, set WAL and migrate."""
    notices = check_links(path)
    if path.exists() and not os.access(path, os.W_OK):
        uri, read_notices = _check_readable(path)
        return Prepared([*notices, *read_notices], uri)
    _make_folder(path.parent)
    try:
        _migrate_file(path)
        return Prepared(notices)
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise HistoryError(
                f"Cannot open the history database {path}: {exc}.",
                suggestion="Check the file's permissions, or pass --db with another path.",
            ) from exc
        notice = damaged_notice(path, exc, move_aside(path))
        _migrate_file(path)
        return Prepared([*notices, notice])


def damaged_notice(path: Path, exc: BaseException, moved: Path) -> str:
    notice = (
        f"The history database {path} could not be read ({exc}): it is damaged. It was moved "
        f"to {moved} and a new, empty history was started. Recover what is readable from the "
        f"old file with `sqlite3 {moved} .recover`."
    )
    log.warning("%s", notice)
    return notice


def move_aside(path: Path) -> Path:
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


def read_only_uri(path: Path) -> str:
    """A URI that reads `path` without writing anything: `mode=ro` needs the WAL's shared
    memory file, which a reader without write access may not be able to create."""
    for query in ("mode=ro", "immutable=1"):
        uri = f"{path.absolute().as_uri()}?{query}"
        try:
            conn = sqlite3.connect(uri, uri=True)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                conn.close()
            return uri
        except sqlite3.OperationalError:
            continue
    return f"{path.absolute().as_uri()}?immutable=1"


def _check_readable(path: Path) -> tuple[str, list[str]]:
    uri = read_only_uri(path)
    conn = sqlite3.connect(uri, uri=True)
    try:
        version = migrations.current_version(conn)
    except sqlite3.DatabaseError as exc:
        raise HistoryError(
            f"The history database {path} is read-only and cannot be read ({exc}).",
            suggestion="Make it writable so flowrun can move it aside, or pass --db.",
        ) from exc
    finally:
        conn.close()
    migrations.check_not_newer(version, str(path))
    if version != migrations.LATEST:
        raise HistoryError(
            f"The history database {path} is read-only and has an older schema "
            f"(version {version}; this flowrun needs {migrations.LATEST}).",
            suggestion="Make it writable once so flowrun can upgrade it.",
        )
    return uri, [f"The history database {path} is read-only: it can be listed, not written."]


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
