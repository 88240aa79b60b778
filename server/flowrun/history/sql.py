"""What the history's SQL code needs of a database, whichever backend is under it.

`rows`, `writer`, `retention`, `reader` and `store` are written against these protocols:
`connection.Database` (SQLite, aiosqlite) and `postgres.PgDatabase` (psycopg 3 with its pool)
implement `Database`; the connection a write transaction hands out is aiosqlite's own, or
`postgres.PgConnection`, which runs the same SQL translated (`dialect.to_postgres`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar

Row = dict[str, Any]
T = TypeVar("T")


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


class Database(Protocol):
    lock: asyncio.Lock
    notices: list[str]
    on_notice: Callable[[str], None] | None
    on_replaced: Callable[[Connection], Awaitable[None]] | None

    @property
    def path(self) -> Path: ...

    @property
    def location(self) -> str:
        """Where the history is, as shown to the user (a URL never with its password)."""
        ...

    @property
    def read_only(self) -> bool: ...

    @property
    def local(self) -> bool:
        """True when only this machine writes it (a file): owner pids can be checked."""
        ...

    async def close(self) -> None: ...

    async def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None: ...

    async def all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]: ...

    async def write(self, work: Callable[[Connection], Awaitable[T]]) -> T: ...

    async def write_locked(self, work: Callable[[Connection], Awaitable[T]]) -> T: ...

    async def shrink(self) -> None:
        """Give freed space back after retention deleted rows."""
        ...
