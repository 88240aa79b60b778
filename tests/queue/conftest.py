"""Queue mode's servers: a fresh PostgreSQL history and a Redis per test."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowrun.history.store import HistoryStore
from real_services import Redis, redis_server


@pytest.fixture
def db(pg_url: str) -> str:
    """A fresh PostgreSQL history, its schema created."""

    async def create() -> None:
        await (await HistoryStore.open(pg_url)).close()

    asyncio.run(create())
    return pg_url


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    with redis_server(tmp_path / "redis") as server:
        yield server
