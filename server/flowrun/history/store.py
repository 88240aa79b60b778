"""The execution history: one SQLite file per workspace (design §6), through aiosqlite.

WAL with a busy timeout, so a CLI process and the daemon can both read and write; one
connection per store (use one store per process). Engine events are buffered and written
in one transaction at most 50 ms after they arrive; a committed transaction survives a
killed process. A file that is not a readable database is moved aside and replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import aiosqlite

from flowrun.history import payloads, tree
from flowrun.history.dbfile import BUSY_TIMEOUT_MS, DB_DIR, HistoryError, prepare
from flowrun.history.recorder import EventRecorder, Write, compact
from flowrun.runs.errors import UnknownExecution
from flowrun.runs.process_groups import pid_alive

log = logging.getLogger(__name__)
__all__ = ["ACTIVE", "HistoryError", "HistoryStore", "default_db_path", "pid_alive"]

FLUSH_DELAY = 0.05
DB_NAME = "history.sqlite3"
ACTIVE = ("queued", "running")

SUMMARY_COLUMNS = (
    "id, workflow_id, file, status, trigger, error, created_at, started_at, finished_at, "
    "duration_ms"
)


def default_db_path(start: Path) -> Path:
    """`<root>/.flowrun/history.sqlite3`, root being the nearest folder (from `start` up)
    that holds `.flowrun` or `.git`; `start` itself when there is none."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for folder in (start, *start.parents):
        if (folder / DB_DIR).is_dir() or (folder / ".git").exists():
            return folder / DB_DIR / DB_NAME
    return start / DB_DIR / DB_NAME


class HistoryStore:
    def __init__(self, conn: aiosqlite.Connection, path: Path, retention: int) -> None:
        self.path = path
        self.retention = retention
        self.notices: list[str] = []  # things the user should be told (a corrupt file moved)
        self._conn = conn
        self._lock = asyncio.Lock()
        self._recorder = EventRecorder()
        self._pending: list[Write] = []
        self._touched: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @classmethod
    async def open(cls, path: Path, *, retention: int = 1000) -> HistoryStore:
        path = Path(path)
        notices = await asyncio.to_thread(prepare, path)
        pending = aiosqlite.connect(path, isolation_level=None)
        worker = getattr(pending, "_thread", None)
        if isinstance(worker, threading.Thread):
            # A store nobody closed must not keep the process alive at exit (SQLite stays
            # consistent; at most the last 50 ms of events are lost, as in a crash).
            worker.daemon = True
        conn = await pending
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA synchronous = NORMAL")
        store = cls(conn, path, retention)
        store.notices.extend(notices)
        return store

    async def close(self) -> None:
        try:
            await self.flush()
        finally:
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._conn.close()

    # -- writing ------------------------------------------------------------------------

    async def create_execution(
        self,
        *,
        execution_id: str,
        workflow_id: str,
        file: str,
        trigger: dict[str, Any] | None,
        inputs: dict[str, Any] | None,
        status: str = "queued",
        owner_pid: int | None = None,
    ) -> None:
        now = time.time()
        pid = os.getpid() if owner_pid is None else owner_pid
        started = None if status == "queued" else now
        inputs_json = payloads.dump(inputs)
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO executions (id, workflow_id, file, status, trigger, inputs, "
                "created_at, started_at, updated_at, owner_pid) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (execution_id, workflow_id, file, status, payloads.dump(trigger), inputs_json,
                 now, started, now, pid),
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO workflows (id, file, last_execution_at, last_status, "
                "execution_count, last_inputs) VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (id) DO "
                "UPDATE SET file = excluded.file, last_execution_at = excluded.last_execution_at,"
                " last_status = excluded.last_status, execution_count = execution_count + 1,"
                " last_inputs = excluded.last_inputs",
                (workflow_id, file, now, status, inputs_json),
            )

    async def set_process(self, execution_id: str, *, pgid: int) -> None:
        async with self._transaction() as conn:
            await conn.execute("UPDATE executions SET pgid = ? WHERE id = ?", (pgid, execution_id))

    async def record_event(self, execution_id: str, event: dict[str, Any]) -> None:
        ops = self._recorder.ops(execution_id, event)
        if not ops:
            return
        self._pending.extend(ops)
        self._touched.add(execution_id)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(FLUSH_DELAY, self._flush_soon)

    async def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        async with self._lock:
            ops, touched = self._pending, self._touched
            if not ops:
                return
            self._pending, self._touched = [], set()
            try:
                await self._write_batch(ops, touched)
            except sqlite3.OperationalError:
                self._pending[:0] = ops  # busy or locked: keep them for the next flush
                self._touched |= touched
                if self._timer is None:
                    self._timer = asyncio.get_running_loop().call_later(
                        FLUSH_DELAY, self._flush_soon
                    )
                raise

    async def finish(
        self,
        execution_id: str,
        *,
        status: str,
        outputs: dict[str, Any] | None,
        error: dict[str, Any] | None,
    ) -> None:
        await self.flush()
        async with self._transaction() as conn:
            await _finish_row(conn, execution_id, status, outputs, error, time.time())
        self._recorder.forget(execution_id)
        row = await self._one("SELECT workflow_id FROM executions WHERE id = ?", (execution_id,))
        if row is not None:
            self._spawn(self.prune(row["workflow_id"]))

    async def mark_interrupted(self) -> list[str]:
        """Mark `interrupted` every queued/running execution whose owner process is gone."""
        await self.flush()
        rows = await self._all(
            "SELECT id, owner_pid, updated_at FROM executions WHERE status IN (?, ?)", ACTIVE
        )
        dead = [row for row in rows if not pid_alive(row["owner_pid"])]
        for row in dead:
            error = {
                "type": "Interrupted",
                "message": f"The flowrun process that ran this execution (pid "
                f"{row['owner_pid']}) ended before the execution finished.",
                "suggestion": "Run the workflow again.",
            }
            async with self._transaction() as conn:
                await _finish_row(conn, row["id"], "interrupted", None, error, row["updated_at"])
        return [row["id"] for row in dead]

    async def prune(self, workflow_id: str | None = None) -> int:
        """Keep the newest `retention` executions per workflow; shrink the file. Returns the
        number of executions deleted."""
        if workflow_id is None:
            rows = await self._all("SELECT id FROM workflows", ())
            ids = [row["id"] for row in rows]
        else:
            ids = [workflow_id]
        deleted = 0
        for wid in ids:
            deleted += await self._prune_workflow(wid)
        if deleted:
            await self._shrink()
        return deleted

    # -- reading ------------------------------------------------------------------------

    async def list_executions(
        self,
        *,
        workflow_id: str | None = None,
        file: str | None = None,
        status: str | None = None,
        since: float | None = None,
        before: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("workflow_id", workflow_id), ("file", file), ("status", status)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            clauses.append("created_at >= ?")
            params.append(since)
        if before is not None:
            clauses.append("seq < coalesce((SELECT seq FROM executions WHERE id = ?), -1)")
            params.append(before)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {SUMMARY_COLUMNS} FROM executions {where} ORDER BY seq DESC LIMIT ?"
        rows = await self._all(sql, (*params, max(limit, 0)))
        return [tree.summary(row) for row in rows]

    async def execution_tree(self, execution_id: str) -> dict[str, Any]:
        await self.flush()  # also waits for a batch already being written
        execution = await self._one("SELECT * FROM executions WHERE id = ?", (execution_id,))
        if execution is None:
            execution_id = await self.resolve_id(execution_id)
            execution = await self._one("SELECT * FROM executions WHERE id = ?", (execution_id,))
            if execution is None:  # pruned in between
                raise UnknownExecution(f"Execution {execution_id} is no longer in the history.")
        nodes = await self._all(
            "SELECT * FROM node_executions WHERE execution_id = ? ORDER BY rowid", (execution_id,)
        )
        stages = await self._all(
            "SELECT * FROM stage_executions WHERE execution_id = ?", (execution_id,)
        )
        return tree.build_tree(execution, nodes, stages)

    async def resolve_id(self, prefix: str) -> str:
        prefix = prefix.strip()
        if not prefix:
            raise UnknownExecution("No execution id given.", suggestion=_LIST_HINT)
        if await self._one("SELECT 1 FROM executions WHERE id = ?", (prefix,)) is not None:
            return prefix
        for candidate in dict.fromkeys((prefix, prefix.lower())):
            rows = await self._all(
                "SELECT id FROM executions WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
                (candidate, candidate + "\U0010ffff"),
            )
            if len(rows) == 1:
                return str(rows[0]["id"])
            if rows:
                shown = ", ".join(str(row["id"])[:12] for row in rows[:5])
                raise UnknownExecution(
                    f"The id prefix '{prefix}' matches more than one execution ({shown}…).",
                    suggestion="Give more characters of the id.",
                )
        raise UnknownExecution(
            f"No execution with an id starting with '{prefix}' in {self.path}.",
            suggestion=_LIST_HINT,
        )

    async def workflow_stats(self, workflow_id: str) -> dict[str, Any] | None:
        row = await self._one("SELECT * FROM workflows WHERE id = ?", (workflow_id,))
        if row is None:
            return None
        return {
            "lastExecutionAt": tree.iso(row["last_execution_at"]),
            "lastStatus": row["last_status"],
            "executionCount": row["execution_count"],
            "successCount": row["success_count"],
            "lastDurationMs": row["last_duration_ms"],
            "lastInputs": payloads.load(row["last_inputs"]),
        }

    async def process_of(self, execution_id: str) -> tuple[int | None, int | None]:
        row = await self._one(
            "SELECT owner_pid, pgid FROM executions WHERE id = ?", (execution_id,)
        )
        if row is None:
            raise UnknownExecution(f"No execution {execution_id} in {self.path}.")
        return row["owner_pid"], row["pgid"]

    async def node_outputs(self, execution_id: str) -> dict[str, Any]:
        await self.flush()  # also waits for a batch already being written
        rows = await self._all(
            "SELECT node_id, output FROM node_executions WHERE execution_id = ? AND "
            "status = 'succeeded' ORDER BY iteration, attempt",
            (execution_id,),
        )
        return {row["node_id"]: payloads.load(row["output"]) for row in rows}

    async def status_of(self, execution_id: str) -> str | None:
        row = await self._one("SELECT status FROM executions WHERE id = ?", (execution_id,))
        return None if row is None else str(row["status"])

    # -- internals ------------------------------------------------------------------------

    def _flush_soon(self) -> None:
        self._timer = None
        self._spawn(self.flush())

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("history: background write failed", exc_info=task.exception())

    async def _write_batch(self, ops: list[Write], touched: Iterable[str]) -> None:
        await self._conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, rows in compact(ops):
                await self._conn.executemany(sql, rows)
            now = time.time()
            await self._conn.executemany(
                "UPDATE executions SET updated_at = ? WHERE id = ?", [(now, i) for i in touched]
            )
            await self._conn.execute("COMMIT")
        except BaseException:
            await self._conn.execute("ROLLBACK")
            raise

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    async def _prune_workflow(self, workflow_id: str) -> int:
        cutoff = await self._one(
            "SELECT seq FROM executions WHERE workflow_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
            (workflow_id, max(self.retention - 1, 0)),
        )
        if cutoff is None:
            return 0
        rows = await self._all(
            "SELECT id FROM executions WHERE workflow_id = ? AND seq < ? AND status NOT IN (?, ?)",
            (workflow_id, cutoff["seq"], *ACTIVE),
        )
        ids = [row["id"] for row in rows]
        for start in range(0, len(ids), 200):
            chunk = [(i,) for i in ids[start : start + 200]]
            async with self._transaction() as conn:
                for table in ("node_executions", "stage_executions"):
                    await conn.executemany(f"DELETE FROM {table} WHERE execution_id = ?", chunk)
                await conn.executemany("DELETE FROM executions WHERE id = ?", chunk)
        return len(ids)

    async def _shrink(self) -> None:
        async with self._lock:
            # Each step of this pragma frees one page; executescript steps it to the end.
            await self._conn.executescript("PRAGMA incremental_vacuum;")
            await self._conn.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")

    async def _one(self, sql: str, params: Iterable[Any]) -> dict[str, Any] | None:
        async with self._conn.execute(sql, tuple(params)) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return None if row is None else dict(row)

    async def _all(self, sql: str, params: Iterable[Any]) -> list[dict[str, Any]]:
        async with self._conn.execute(sql, tuple(params)) as cursor:
            return [dict(row) for row in await cursor.fetchall()]


_LIST_HINT = "List executions with `flowrun history`."


async def _finish_row(
    conn: aiosqlite.Connection,
    execution_id: str,
    status: str,
    outputs: dict[str, Any] | None,
    error: dict[str, Any] | None,
    finished_at: float,
) -> None:
    """End an active execution once; later calls (or an already ended one) change nothing."""
    cursor = await conn.execute(
        "UPDATE executions SET status = ?, outputs = coalesce(?, outputs), "
        "error = coalesce(?, error), finished_at = ?, "
        "duration_ms = max(0, CAST((? - coalesce(started_at, created_at)) * 1000 AS INTEGER)) "
        "WHERE id = ? AND status IN (?, ?)",
        (status, payloads.dump(outputs), payloads.dump(error), finished_at, finished_at,
         execution_id, *ACTIVE),
    )  # fmt: skip
    if cursor.rowcount != 1:
        return
    await conn.execute(
        "UPDATE node_executions SET status = 'stopped', finished_at = ? "
        "WHERE execution_id = ? AND status = 'running'",
        (finished_at, execution_id),
    )
    workflow = "(SELECT workflow_id FROM executions WHERE id = ?)"
    if status == "succeeded":
        await conn.execute(
            f"UPDATE workflows SET success_count = success_count + 1 WHERE id = {workflow}",
            (execution_id,),
        )
    await conn.execute(  # last_* only follow the workflow's newest execution
        "UPDATE workflows SET last_status = ?, "
        "last_duration_ms = (SELECT duration_ms FROM executions WHERE id = ?) "
        f"WHERE id = {workflow} AND NOT EXISTS "
        "(SELECT 1 FROM executions e, executions x WHERE x.id = ? AND "
        "e.workflow_id = x.workflow_id AND e.seq > x.seq)",
        (status, execution_id, execution_id, execution_id),
    )
