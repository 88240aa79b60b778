"""Schema of the history database, as numbered forward migrations.

`MIGRATIONS[n - 1]` takes a database from version n - 1 to version n; the version lives in
the `schema_version` table. A migration is a tuple of SQL statements run in one
transaction, so a crash half-way leaves the previous version intact. Never edit a released
migration: add the next one (tests migrate a committed version-1 file).
"""

from __future__ import annotations

import sqlite3

from flowrun.history import durations
from flowrun.runs.errors import FlowrunError

V1: tuple[str, ...] = (
    """CREATE TABLE executions (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        workflow_id TEXT NOT NULL,
        file TEXT NOT NULL,
        status TEXT NOT NULL,
        trigger TEXT,
        inputs TEXT,
        outputs TEXT,
        error TEXT,
        plan TEXT,
        created_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        updated_at REAL,
        duration_ms INTEGER,
        owner_pid INTEGER,
        pgid INTEGER
    )""",
    "CREATE INDEX executions_by_workflow ON executions (workflow_id, seq)",
    "CREATE INDEX executions_by_file ON executions (file, seq)",
    "CREATE INDEX executions_by_status ON executions (status, seq)",
    """CREATE TABLE node_executions (
        execution_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        stage TEXT,
        iteration INTEGER NOT NULL DEFAULT 0,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL,
        input TEXT,
        output TEXT,
        error TEXT,
        logs TEXT,
        started_at REAL,
        finished_at REAL,
        duration_ms INTEGER,
        given INTEGER NOT NULL DEFAULT 0,
        UNIQUE (execution_id, node_id, iteration, attempt)
    )""",
    """CREATE TABLE stage_executions (
        execution_id TEXT NOT NULL,
        stage_id TEXT NOT NULL,
        iteration INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,
        started_at REAL,
        finished_at REAL,
        PRIMARY KEY (execution_id, stage_id, iteration)
    )""",
    """CREATE TABLE workflows (
        id TEXT PRIMARY KEY,
        file TEXT NOT NULL,
        last_execution_at REAL,
        last_status TEXT,
        last_duration_ms INTEGER,
        execution_count INTEGER NOT NULL DEFAULT 0,
        success_count INTEGER NOT NULL DEFAULT 0
    )""",
)

# Version 2: the inputs of each workflow's last run (for the editor's "run again"), and a
# config hash per node record (design §9: which nodes changed since the last run).
V2: tuple[str, ...] = (
    "ALTER TABLE workflows ADD COLUMN last_inputs TEXT",
    "ALTER TABLE node_executions ADD COLUMN config_hash TEXT",
    """UPDATE workflows SET last_inputs = (
        SELECT e.inputs FROM executions e WHERE e.workflow_id = workflows.id
        ORDER BY e.seq DESC LIMIT 1
    )""",
)

# Version 3: statistics per workflow *file* (two files with the same workflow id never mix,
# issue 11.5): `workflows` is keyed by (id, file), rebuilt from the executions; where one file
# held the id alone, its counters (which include pruned executions) are kept. And the error
# of a stage as a whole (a loop whose `until` never held, issue 11.4).
V3: tuple[str, ...] = (
    "ALTER TABLE stage_executions ADD COLUMN error TEXT",
    """CREATE TABLE workflows_v3 (
        id TEXT NOT NULL,
        file TEXT NOT NULL,
        last_execution_at REAL,
        last_status TEXT,
        last_duration_ms INTEGER,
        execution_count INTEGER NOT NULL DEFAULT 0,
        success_count INTEGER NOT NULL DEFAULT 0,
        last_inputs TEXT,
        PRIMARY KEY (id, file)
    )""",
    """INSERT INTO workflows_v3 (id, file, last_execution_at, execution_count, success_count)
        SELECT workflow_id, file, max(created_at), count(*),
               sum(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END)
        FROM executions GROUP BY workflow_id, file""",
    """UPDATE workflows_v3 SET
        last_status = (SELECT e.status FROM executions e WHERE e.workflow_id = workflows_v3.id
                       AND e.file = workflows_v3.file ORDER BY e.seq DESC LIMIT 1),
        last_duration_ms = (SELECT e.duration_ms FROM executions e
                            WHERE e.workflow_id = workflows_v3.id
                            AND e.file = workflows_v3.file ORDER BY e.seq DESC LIMIT 1),
        last_inputs = (SELECT e.inputs FROM executions e WHERE e.workflow_id = workflows_v3.id
                       AND e.file = workflows_v3.file ORDER BY e.seq DESC LIMIT 1)""",
    """UPDATE workflows_v3 SET
        execution_count = max(execution_count, (SELECT w.execution_count FROM workflows w
                                                WHERE w.id = workflows_v3.id)),
        success_count = max(success_count, (SELECT w.success_count FROM workflows w
                                            WHERE w.id = workflows_v3.id))
        WHERE EXISTS (SELECT 1 FROM workflows w WHERE w.id = workflows_v3.id)
        AND (SELECT count(*) FROM workflows_v3 x WHERE x.id = workflows_v3.id) = 1""",
    """INSERT OR IGNORE INTO workflows_v3 (id, file, last_execution_at, last_status,
        last_duration_ms, execution_count, success_count, last_inputs)
        SELECT id, file, last_execution_at, last_status, last_duration_ms, execution_count,
               success_count, last_inputs FROM workflows""",
    "DROP TABLE workflows",
    "ALTER TABLE workflows_v3 RENAME TO workflows",
    "CREATE INDEX executions_by_workflow_file ON executions (workflow_id, file, seq)",
)

# Version 4: the execution mode of design §9 (`test`, `production`, `batch`), filterable.
V4: tuple[str, ...] = (
    "ALTER TABLE executions ADD COLUMN mode TEXT NOT NULL DEFAULT 'test'",
    "CREATE INDEX executions_by_mode ON executions (mode, seq)",
)

# Version 5: workflow tests (issue 16): the test an execution ran, and the nodes a mock stood
# in for.
V5: tuple[str, ...] = (
    "ALTER TABLE executions ADD COLUMN test_name TEXT",
    "ALTER TABLE node_executions ADD COLUMN mocked INTEGER NOT NULL DEFAULT 0",
)

# Version 6 (issue 15, design §9): which machine or `flowrun worker --name` owns an execution
# (owner pids are only checked on that one), and its delivery attempt: a queued execution
# delivered again after its worker died is a new attempt of the same id, and each earlier
# attempt (its worker, how it ended) is kept in `execution_attempts`.
V6: tuple[str, ...] = (
    "ALTER TABLE executions ADD COLUMN worker TEXT",
    "ALTER TABLE executions ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1",
    """CREATE TABLE execution_attempts (
        execution_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        worker TEXT,
        status TEXT NOT NULL,
        started_at REAL,
        finished_at REAL,
        error TEXT,
        PRIMARY KEY (execution_id, attempt)
    )""",
)

# Version 7: what a run cost (issue 18, design §9 names). Per node attempt the metrics of
# `node_finished` (`metrics` keeps the rest: provider, model, http status and bytes) and the
# cache flag; per execution the totals over its nodes and its trace id; per workflow file the
# last run's cost and calls (the CodeLens); `node_stats` sums each node's attempts per
# workflow file and UTC day as executions end, so `flowrun stats` never scans node rows.
_COST_COLUMNS = (
    "llm_calls INTEGER", "input_tokens INTEGER", "output_tokens INTEGER", "cost_usd REAL",
)  # fmt: skip
V7: tuple[str, ...] = (
    *(f"ALTER TABLE executions ADD COLUMN {column}" for column in _COST_COLUMNS),
    "ALTER TABLE executions ADD COLUMN trace_id TEXT",
    *(f"ALTER TABLE node_executions ADD COLUMN {column}" for column in _COST_COLUMNS),
    "ALTER TABLE node_executions ADD COLUMN metrics TEXT",
    "ALTER TABLE node_executions ADD COLUMN cached INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE workflows ADD COLUMN last_cost_usd REAL",
    "ALTER TABLE workflows ADD COLUMN last_llm_calls INTEGER",
    # `flowrun stats` reads executions from this index alone: totals in one pass, and the
    # percentiles by walking each workflow's durations in order
    """CREATE INDEX executions_stats ON executions (workflow_id, file, duration_ms, status,
        created_at, llm_calls, input_tokens, output_tokens, cost_usd)""",
    """CREATE TABLE node_stats (
        workflow_id TEXT NOT NULL,
        file TEXT NOT NULL,
        node_id TEXT NOT NULL,
        day INTEGER NOT NULL,
        runs INTEGER NOT NULL,
        duration_ms INTEGER,
        max_duration_ms INTEGER,
        tokens INTEGER,
        cost_usd REAL,
        PRIMARY KEY (workflow_id, file, node_id, day)
    )""",
)

# Version 8: `flowrun stats` from daily aggregates, on SQLite and PostgreSQL alike (issue 18).
# As an execution ends (`daily.add_execution`), `workflow_days` adds it to its workflow file's
# UTC day (runs, successes, tokens, cost) and `duration_days` counts its duration in a bucket
# (`durations`); both are filled here from the executions already ended. Stats then read a
# few rows per workflow and day, never the executions: the V7 covering index goes.
_ENDED = "status NOT IN ('queued', 'running', 'paused')"
_DAY = "CAST(created_at / 86400 AS INTEGER)"


def _backfill_durations(decade: int) -> str:
    counts = []
    for column in range(durations.PER_DECADE):
        low, high = durations.bounds(decade, column)
        counts.append(
            f"sum(CASE WHEN duration_ms >= {low} AND duration_ms < {high} THEN 1 END)"
            if low < high else "NULL"
        )  # fmt: skip
    floor = f"duration_ms >= {10**decade}" if decade else "duration_ms IS NOT NULL"
    return f"""INSERT INTO duration_days (workflow_id, file, day, decade,
        {", ".join(durations.COLUMNS)})
        SELECT workflow_id, file, {_DAY}, {decade}, {", ".join(counts)} FROM executions
        WHERE {floor} AND duration_ms < {10 ** (decade + 1)} AND {_ENDED} GROUP BY 1, 2, 3"""


V8: tuple[str, ...] = (
    "DROP INDEX executions_stats",
    """CREATE TABLE workflow_days (
        workflow_id TEXT NOT NULL,
        file TEXT NOT NULL,
        day INTEGER NOT NULL,
        executions INTEGER NOT NULL,
        succeeded INTEGER NOT NULL,
        llm_calls INTEGER,
        input_tokens BIGINT,
        output_tokens BIGINT,
        cost_usd REAL,
        PRIMARY KEY (workflow_id, file, day)
    )""",
    f"""CREATE TABLE duration_days (
        workflow_id TEXT NOT NULL,
        file TEXT NOT NULL,
        day INTEGER NOT NULL,
        decade INTEGER NOT NULL,
        {", ".join(f"{column} INTEGER" for column in durations.COLUMNS)},
        PRIMARY KEY (workflow_id, file, decade, day)
    )""",
    f"""INSERT INTO workflow_days (workflow_id, file, day, executions, succeeded, llm_calls,
        input_tokens, output_tokens, cost_usd)
        SELECT workflow_id, file, {_DAY}, count(*),
        sum(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END), sum(llm_calls),
        sum(input_tokens), sum(output_tokens), sum(cost_usd)
        FROM executions WHERE {_ENDED} GROUP BY 1, 2, 3""",
    *(_backfill_durations(decade) for decade in range(durations.BACKFILLED_DECADES)),
)

# Version 9 (issue 17, design §9): where a re-run or a resume came from. A paused execution is
# its own checkpoint (its node rows, `error.pausedAt`); each resume is a new execution naming
# it as its parent.
V9: tuple[str, ...] = (
    "ALTER TABLE executions ADD COLUMN parent_execution_id TEXT",
    "ALTER TABLE executions ADD COLUMN from_node TEXT",
)

# Version 10 (issue 15): when a queue worker claimed a queued execution. A second delivery of
# its task that finds it claimed but not started (still `queued`) is a new attempt, as one
# that finds it running is: the first claimer may be dead, or may run it too.
V10: tuple[str, ...] = ("ALTER TABLE executions ADD COLUMN claimed_at REAL",)

MIGRATIONS: tuple[tuple[str, ...], ...] = (V1, V2, V3, V4, V5, V6, V7, V8, V9, V10)
LATEST = len(MIGRATIONS)


class SchemaTooNew(FlowrunError):
    type_name = "HistoryError"


def current_version(conn: sqlite3.Connection) -> int:
    """0 for an empty database; raises sqlite3.DatabaseError when the file is not a database."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, path: str, *, target: int = LATEST) -> int:
    """Bring the database to `target`; safe when two processes open a new file at once.

    `conn` must be in autocommit mode (isolation_level=None): each step is its own
    BEGIN IMMEDIATE transaction, and the version is re-read inside it.
    """
    found = current_version(conn)
    if found == target:
        return target
    if found == 0:
        # Only takes effect before the first table exists; lets retention shrink the file.
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = current_version(conn)
        check_not_newer(version, path)
        if version == 0:
            conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for number in range(version + 1, target + 1):
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return target


def check_not_newer(version: int, path: str) -> None:
    if version > LATEST:
        raise SchemaTooNew(
            f"The history database {path} has schema version {version}, newer than this "
            f"flowrun understands ({LATEST}).",
            suggestion="Upgrade flowrun, or pass --db with another file.",
        )
