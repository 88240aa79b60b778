"""The whole suite: the pytest process is no engine's subreaper (`flowrun run` and
`flowrun lsp` are, when tests start them as processes), so an orphan of an in-process run goes
to init as usual and never waits, a zombie, for pytest to reap it.

Real servers (`real_services.py`): one PostgreSQL cluster per session, a database per test.
"""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowrun.runs import containment
from real_services import Postgres, postgres_server

containment.SUBREAPER = False

# Workflow files whose `tests:` fail on purpose (the flowrun pytest plugin would collect them):
# the tests of `flowrun test`, the plugin and the editor use them as data.
collect_ignore_glob = ["workflow_samples/*", "e2e/workspace/*", "corpus/*"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    # Not under pytest's basetemp (mode 0700): as root the cluster runs as `postgres`.
    folder = Path(tempfile.mkdtemp(prefix="flowrun-pg-"))
    try:
        with postgres_server(folder) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(postgres: Postgres) -> str:
    """The URL of a fresh, empty database on the session's PostgreSQL."""
    return postgres.new_database()
