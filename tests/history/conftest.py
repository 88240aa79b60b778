"""The history's store tests run on both backends: a SQLite file and a fresh PostgreSQL
database (the session's server, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flowrun.history.store import HistoryStore


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a history is (not created yet): a SQLite file's path, a PostgreSQL URL."""
    if request.param == "sqlite":
        return tmp_path / ".flowrun" / "history.sqlite3"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def store(location: Path | str) -> AsyncIterator[HistoryStore]:
    """The same tests on both backends: a store over `location`."""
    opened = await HistoryStore.open(location)
    yield opened
    await opened.close()
