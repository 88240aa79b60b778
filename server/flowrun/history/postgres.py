"""The history in PostgreSQL (extra `flowrun[postgres]`): psycopg 3, async, with its pool.

The same schema, migrations and SQL as the SQLite file (`migrations`, `rows`, `reader`,
`recorder`, `retention`), translated by `dialect.to_postgres`: `PgDatabase` is the second
implementation of `sql.Database`, under the same `HistoryStore`. Many machines share one
database; the migrations run under an advisory lock, so two processes starting at once migrate
it once. The URL's password never reaches a message or a log (`location.redact`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from flowrun.history import migrations
from flowrun.history.dialect import to_postgres
from flowrun.history.location import HistoryError, HistoryUnreachable, redact, scrub
from flowrun.history.sql import Connection, Database, Row, T

try:
    import psycopg
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool
except ImportError:  # pragma: no cover - the extra is not installed
    psycopg = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10  # seconds, to reach the server at start
MIGRATION_LOCK = 0x466C6F7772756E  # "Flowrun": pg_advisory_xact_lock key
WRITE_TRIES = 5  # a write that lost its connection is tried again, after 0.2, 0.4 … s


class PgConnection:
    """A connection in a write transaction, running the shared SQL translated."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._conn = conn

    async def execute(
        self, sql: str, parameters: Iterable[Any] = (), /
    ) -> psycopg.AsyncCursor[Any]:
        return await self._conn.execute(to_postgres(sql), tuple(parameters))

    async def executemany(
        self, sql: str, parameters: Iterable[Iterable[Any]], /
    ) -> psycopg.AsyncCursor[Any]:
        cursor = self._conn.cursor()
        await cursor.executemany(to_postgres(sql), [tuple(p) for p in parameters])
        return cursor


class PgDatabase(Database):
    def __init__(self, url: str, pool: AsyncConnectionPool[Any]) -> None:
        super().__init__(Path(redact(url)), redact(url), read_only=False, local=False)
        self.url = url
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> PgDatabase:
        if psycopg is None:
            raise HistoryError(
                "A PostgreSQL history needs the extra flowrun[postgres].",
                suggestion="pip install 'flowrun[postgres]'",
            )
        try:
            conn = await psycopg.AsyncConnection.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT
            )
        except psycopg.Error as exc:
            raise unreachable(url, exc) from None
        try:
            await migrate(conn, redact(url))
        finally:
            await conn.close()
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=4,
            open=False,
            kwargs={"autocommit": True},
            check=AsyncConnectionPool.check_connection,
            name="flowrun-history",
        )
        await pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        return cls(url, pool)

    async def close(self) -> None:
        await self._pool.close()

    async def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        try:
            async with self._pool.connection() as conn:
                cursor = conn.cursor(row_factory=dict_row)
                await cursor.execute(to_postgres(sql), tuple(params))
                rows: list[Row] = await cursor.fetchall()
                return rows
        except psycopg.OperationalError as exc:  # the server went away (PoolTimeout too)
            raise unreachable(self.url, exc) from None

    async def write_locked(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `work` in one transaction; again (with backoff) when the connection was lost,
        so a restarted server costs a pause, not the events."""
        for attempt in range(WRITE_TRIES):
            try:
                async with self._pool.connection() as conn, conn.transaction():
                    return await work(PgConnection(conn))
            except psycopg.OperationalError as exc:
                if attempt == WRITE_TRIES - 1:
                    raise unreachable(self.url, exc) from None
                log.warning("history: %s; writing again", scrub(str(exc), self.url))
                await asyncio.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    async def shrink(self) -> None:
        """Nothing to do: PostgreSQL's autovacuum reuses the space of deleted rows."""


async def migrate(
    conn: psycopg.AsyncConnection[Any], where: str, *, target: int = migrations.LATEST
) -> int:
    """Bring the database to `target` (the latest schema), once even when many processes
    start at once."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        cursor = await conn.execute("SELECT max(version) FROM schema_version")
        row = await cursor.fetchone()
        version = int(row[0] or 0) if row else 0
        migrations.check_not_newer(version, where)
        for number in range(version + 1, target + 1):
            for statement in migrations.MIGRATIONS[number - 1]:
                await conn.execute(to_postgres(statement).replace("%%", "%"))
            await conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
    return target


def unreachable(url: str, exc: BaseException) -> HistoryUnreachable:
    return HistoryUnreachable(
        f"Cannot reach the PostgreSQL history {redact(url)}: {scrub(str(exc).strip(), url)}",
        suggestion="Check that the server is running and the URL (host, port, user, database) "
        "is right; the password can also come from PGPASSWORD or ~/.pgpass.",
    )
