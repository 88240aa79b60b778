"""The store's one aiosqlite connection: transactions, queries, and a damaged file replaced.

A damaged file (SQLite says "malformed" or "not a database") must never stop a run: a write
that finds the damage moves the file aside, starts a fresh one and tells the user where the
old file went (`replace_damaged`); the store then writes what it was writing again. A read
that finds it raises `HistoryDamaged`, which says what to do, instead of a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import aiosqlite

from flowrun.history.dbfile import BUSY_TIMEOUT_MS, is_damage, prepare
from flowrun.history.location import HistoryError
from flowrun.history.sql import Connection, Database, Row, T

log = logging.getLogger(__name__)


class HistoryDamaged(HistoryError):
    type_name = "HistoryError"


class HistoryReadOnly(HistoryError):
    type_name = "HistoryError"


class SqliteDatabase(Database):
    def __init__(self, path: Path, conn: aiosqlite.Connection, read_only: bool) -> None:
        super().__init__(path, str(path), read_only=read_only, local=True)
        self._conn = conn

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        prepared = await asyncio.to_thread(prepare, path)
        target = prepared.read_only_uri or str(path)
        conn = await _connect(target, uri=prepared.read_only_uri is not None)
        db = cls(path, conn, read_only=prepared.read_only_uri is not None)
        db.notices.extend(prepared.notices)
        return db

    async def close(self) -> None:
        await self._conn.close()

    # -- queries --------------------------------------------------------------------------

    async def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        try:
            async with self._conn.execute(sql, tuple(params)) as cursor:
                row: sqlite3.Row | None = await cursor.fetchone()
                return None if row is None else dict(row)
        except sqlite3.DatabaseError as exc:
            raise self.read_error(exc) from None

    async def all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        try:
            async with self._conn.execute(sql, tuple(params)) as cursor:
                return [dict(row) for row in await cursor.fetchall()]
        except sqlite3.DatabaseError as exc:
            raise self.read_error(exc) from None

    def read_error(self, exc: sqlite3.DatabaseError) -> Exception:
        if not is_damage(exc):
            return exc
        return HistoryDamaged(
            f"The history database {self.path} is damaged ({exc}); flowrun cannot read it.",
            suggestion="The next `flowrun run` (or the editor's next run) moves it aside and "
            f"starts a new history. To recover what is readable: `sqlite3 {self.path} "
            ".recover | sqlite3 recovered.sqlite3`.",
        )

    # -- writing --------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; the caller holds `lock`."""
        if self.read_only:
            raise HistoryReadOnly(
                f"The history database {self.path} is read-only: nothing can be recorded.",
                suggestion="Make the file writable, or pass --db with another path.",
            )
        await self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                await self._conn.execute("ROLLBACK")
            raise
        await self._conn.execute("COMMIT")

    async def write_locked(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """On a damaged file: replace it, then run `work` again."""
        try:
            async with self.transaction() as conn:
                return await work(conn)
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            await self._replace_damaged(exc)
        async with self.transaction() as conn:
            return await work(conn)

    async def _replace_damaged(self, exc: BaseException) -> None:
        """Move the damaged file aside and continue in a fresh one (the caller holds `lock`);
        `on_replaced` gives the fresh file the rows of the executions still going."""
        from flowrun.history.dbfile import damaged_notice, move_aside

        with contextlib.suppress(Exception):
            await self._conn.close()
        moved = await asyncio.to_thread(move_aside, self.path)
        await asyncio.to_thread(prepare, self.path)
        self._conn = await _connect(str(self.path), uri=False)
        self.notice(damaged_notice(self.path, exc, moved))
        if self.on_replaced is not None:
            async with self.transaction() as conn:
                await self.on_replaced(conn)

    async def shrink(self) -> None:
        async with self.lock:
            # Each step of this pragma frees one page; executescript steps it to the end.
            await self._conn.executescript("PRAGMA incremental_vacuum;")
            # "table is locked" while a reader of this connection holds the WAL: the
            # next shrink (or SQLite's own auto-checkpoint) truncates it instead
            with contextlib.suppress(sqlite3.OperationalError):
                await self._conn.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")


async def _connect(target: str, *, uri: bool) -> aiosqlite.Connection:
    pending = aiosqlite.connect(target, isolation_level=None, uri=uri)
    worker = getattr(pending, "_thread", None)
    if isinstance(worker, threading.Thread):
        # A store nobody closed must not keep the process alive at exit (SQLite stays
        # consistent; at most the last 50 ms of events are lost, as in a crash).
        worker.daemon = True
    conn = await pending
    conn.row_factory = sqlite3.Row
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA synchronous = NORMAL")
    return conn
