"""Retention: the newest N executions of each workflow file are kept, then the file shrinks."""

from __future__ import annotations

from flowrun.history.sql import Connection, Database
from flowrun.status import ACTIVE_VALUES

CHUNK = 200
# Shrinking (vacuum, WAL truncation) after a few deleted rows costs more than it gives back:
# SQLite reuses freed pages for the next executions anyway. A whole-history prune always does.
SHRINK_AT = 100


async def prune(
    db: Database, retention: int, workflow_id: str | None = None, file: str | None = None
) -> int:
    """Delete what is beyond `retention` per (workflow id, file); returns how many."""
    if db.read_only:
        return 0
    if workflow_id is None:
        keys = [(r["id"], r["file"]) for r in await db.all("SELECT id, file FROM workflows")]
    elif file is None:
        rows = await db.all("SELECT id, file FROM workflows WHERE id = ?", (workflow_id,))
        keys = [(r["id"], r["file"]) for r in rows]
    else:
        keys = [(workflow_id, file)]
    deleted = 0
    for wid, wfile in keys:
        deleted += await _prune_one(db, retention, wid, wfile)
    if deleted >= SHRINK_AT or (deleted and workflow_id is None):
        await db.shrink()
    return deleted


async def _prune_one(db: Database, retention: int, workflow_id: str, file: str) -> int:
    cutoff = await db.one(
        "SELECT seq FROM executions WHERE workflow_id = ? AND file = ? "
        "ORDER BY seq DESC LIMIT 1 OFFSET ?",
        (workflow_id, file, max(retention - 1, 0)),
    )
    if cutoff is None:
        return 0
    marks = ", ".join("?" for _ in ACTIVE_VALUES)
    rows = await db.all(
        "SELECT id FROM executions WHERE workflow_id = ? AND file = ? AND seq < ? "
        f"AND status NOT IN ({marks})",
        (workflow_id, file, cutoff["seq"], *ACTIVE_VALUES),
    )
    ids = [row["id"] for row in rows]
    for start in range(0, len(ids), CHUNK):
        chunk = [(i,) for i in ids[start : start + CHUNK]]

        async def delete(conn: Connection, chunk: list[tuple[str]] = chunk) -> None:
            for table in ("node_executions", "stage_executions", "execution_attempts"):
                await conn.executemany(f"DELETE FROM {table} WHERE execution_id = ?", chunk)
            await conn.executemany("DELETE FROM executions WHERE id = ?", chunk)

        await db.write(delete)
    return len(ids)
