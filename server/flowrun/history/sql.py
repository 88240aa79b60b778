"""What the history's SQL code needs of a database, whichever backend is under it.

`rows`, `writer`, `retention`, `reader` and `store` are written against these types:
`connection.SqliteDatabase` (SQLite, aiosqlite) and `postgres.PgDatabase` (psycopg 3 with its pool)
subclass `Database`; the connection a write transaction hands out is aiosqlite's own, or
`postgres.PgConnection`, which runs the same SQL translated (`dialect.to_postgres`).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar

Row = dict[str, Any]
T = TypeVar("T")
log = logging.getLogger(__name__)


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    async def fetchone(self) -> Any: ...

    async def fetchall(self) -> Iterable[Any]: ...


class Connection(Protocol):
    """A connection inside a write transaction (rows come back as tuples)."""

    def execute(self, sql: str, parameters: Iterable[Any] = ..., /) -> Awaitable[Cursor]: ...

    def executemany(
        self, sql: str, parameters: Iterable[Iterable[Any]], /
    ) -> Awaitable[Cursor]: ...


class Database(ABC):
    """A backend's database: what both hold alike (where it is, the write lock, the notices
    for the user, the hook that replays the running executions into a replaced file) and
    what each does its own way (queries, a write transaction, giving space back)."""

    def __init__(self, path: Path, location: str, *, read_only: bool, local: bool) -> None:
        self.path = path
        self.location = location  # as shown to the user (a URL never with its password)
        self.read_only = read_only
        self.local = local  # only this machine writes it (a file): owner pids can be checked
        self.lock = asyncio.Lock()
        self.notices: list[str] = []
        self.on_notice: Callable[[str], None] | None = None
        self.on_replaced: Callable[[Connection], Awaitable[None]] | None = None

    def notice(self, text: str) -> None:
        self.notices.append(text)
        if self.on_notice is not None:
            try:
                self.on_notice(text)
            except Exception:
                log.exception("history: showing a notice failed")

    async def write(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `work` in one transaction (`write_locked`) under `lock`."""
        async with self.lock:
            return await self.write_locked(work)

    @abstractmethod
    async def write_locked(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """`write`, for a caller that holds `lock`."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None: ...

    @abstractmethod
    async def all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]: ...

    @abstractmethod
    async def shrink(self) -> None:
        """Give freed space back after retention deleted rows."""
