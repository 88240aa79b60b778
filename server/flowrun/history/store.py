"""The execution history in one SQLite file per workspace (design §6), through aiosqlite: the
`HistoryBackend` (flowrun.history.interface) every other part of the server uses.

WAL with a busy timeout, so a CLI process and the daemon can both read and write; one
connection per store (use one store per process). Engine events are written in batches
(`writer`), and `record_event` returns the future of the event's batch: announce an event
only once it is done, and what was announced is in the history, even after a crash. Opening,
damaged and read-only files: `dbfile` and `connection`; queries: `reader`; SQL of an
execution's life: `rows`; retention: `retention`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Unpack

from flowrun.history import columns, delivery, payloads, reader, retention, rows, stats
from flowrun.history.connection import HistoryDamaged, SqliteDatabase
from flowrun.history.interface import ExecutionFilter, NewExecution, Payload
from flowrun.history.location import HistoryError, history_location, is_url
from flowrun.history.models import ExecutionSummary, ExecutionTree, WorkflowCost, WorkflowStats
from flowrun.history.sql import Connection, Database
from flowrun.history.stats import CostWindow
from flowrun.history.writer import FLUSH_DELAY, BatchWriter
from flowrun.runs.process_groups import pid_alive
from flowrun.status import LIVE_VALUES, ExecutionStatus

log = logging.getLogger(__name__)
__all__ = [
    "FLUSH_DELAY",
    "HistoryDamaged",
    "HistoryError",
    "HistoryStore",
    "default_db_path",
    "pid_alive",
]


def this_machine() -> str:
    """The `worker` of an execution this process runs outside a queue worker."""
    return socket.gethostname()


def default_db_path(start: Path) -> Path:
    """Kept for callers of the first wave: `history_location(start)`."""
    path = history_location(start)
    assert isinstance(path, Path)  # no explicit URL was given
    return path


class HistoryStore:
    def __init__(self, db: Database, retention: int) -> None:
        self.retention = retention
        self._db = db
        self._active: dict[str, rows.ExecutionRecord] = {}
        self._writer = BatchWriter(db, self._active, delay=FLUSH_DELAY)
        self._writer.start(self._spawn)
        self._tasks: set[asyncio.Task[Any]] = set()
        db.on_replaced = self._replay

    @classmethod
    async def open(cls, location: Path | str, *, retention: int = 1000) -> HistoryStore:
        """A SQLite file, or a PostgreSQL database (a `postgresql://` URL)."""
        if is_url(location):
            from flowrun.history.postgres import PgDatabase

            return cls(await PgDatabase.open(str(location)), retention)
        return cls(await SqliteDatabase.open(Path(location)), retention)

    @property
    def path(self) -> Path:
        return self._db.path

    @property
    def location(self) -> str:
        """The file, or the URL without its password: what to tell the user."""
        return self._db.location

    @property
    def read_only(self) -> bool:
        return self._db.read_only

    @property
    def notices(self) -> list[str]:
        """What the user should be told (a damaged file moved aside, a followed link)."""
        return self._db.notices

    def on_notice(self, show: Callable[[str], None] | None) -> None:
        """Call `show` for each later notice (damage found during a run, say)."""
        self._db.on_notice = show

    async def close(self) -> None:
        try:
            await self.flush()
        finally:
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._db.close()

    # -- writing ------------------------------------------------------------------------

    async def create_execution(self, **execution: Unpack[NewExecution]) -> None:
        await self.create_executions([execution])

    async def create_executions(self, executions: Sequence[NewExecution]) -> None:
        """Record executions in one transaction (the rows of a batch sent to the queue)."""
        now = time.time()
        records = [_record(execution, now) for execution in executions]

        async def work(conn: Connection) -> None:
            for record in records:
                await rows.insert_execution(conn, record)

        await self._db.write(work)
        for record in records:  # given again to a fresh file after damage
            self._active[record.execution_id] = record

    async def set_trace_id(self, execution_id: str, trace_id: str) -> None:
        await self._set(execution_id, "trace_id", trace_id)

    async def set_process(self, execution_id: str, *, pgid: int) -> None:
        await self._set(execution_id, "pgid", pgid)

    async def _set(self, execution_id: str, column: str, value: Any) -> None:
        async def work(conn: Connection) -> None:
            sql = f"UPDATE executions SET {column} = ? WHERE id = ?"  # column: ours, not input
            await conn.execute(sql, (value, execution_id))

        await self._db.write(work)

    async def record_event(self, execution_id: str, event: dict[str, Any]) -> Awaitable[None]:
        """Buffer the event; the result is done once it is committed (readable by anyone)."""
        return self._writer.add(execution_id, event)

    async def flush(self) -> None:
        await self._writer.flush()

    async def finish(
        self, execution_id: str, *, status: str, outputs: Payload, error: Payload
    ) -> None:
        """End the execution (a no-op when its `execution_finished` already did, unless the
        supervisor's status differs: it timed the run out)."""
        await self.flush()
        by_event = self._writer.ended_by_event.get(execution_id)
        record = self._active.get(execution_id)
        outputs_json, error_json = payloads.dump(outputs), payloads.dump(error)

        async def work(conn: Connection) -> None:
            ended = await rows.finish_row(
                conn, execution_id, status, outputs_json, error_json, time.time()
            )
            if not ended and by_event is not None and by_event != status:
                await rows.correct_status(conn, execution_id, status, error_json)

        try:
            await self._db.write(work)
        finally:
            self._writer.forget(execution_id)
            self._active.pop(execution_id, None)
        if record is not None:
            self._spawn(self.prune(record.workflow_id, record.file))

    async def finish_unstarted(
        self, execution_ids: Sequence[str], *, status: str, error: Payload
    ) -> list[str]:
        """End executions that never started (a batch's queued rows, stopped), in one
        transaction: they have no events nor children to wait for. The ones ended: a row a
        worker took meanwhile is no longer queued, and is left for a stop on its worker."""
        error_json, now = payloads.dump(error), time.time()

        async def work(conn: Connection) -> list[str]:
            return [
                execution_id
                for execution_id in execution_ids
                if await rows.finish_row(
                    conn, execution_id, status, None, error_json, now, if_status=("queued",)
                )
            ]

        ended = await self._db.write(work)
        for execution_id in ended:  # one this process created (serve's timeout of a queued one)
            self._writer.forget(execution_id)
            self._active.pop(execution_id, None)
        return ended

    async def mark_interrupted(self) -> list[str]:
        """Mark `interrupted` every active execution whose owner process is gone; its duration
        runs until now, when that was found (issue 11.9). Queued production executions are
        left alone: `flowrun serve` runs them when it restarts (nothing accepted is lost)."""
        if self.read_only:
            return []
        await self.flush()
        marks = ", ".join("?" for _ in LIVE_VALUES)  # a paused one waits for its resume

        # On a shared history (PostgreSQL) only this machine's pids can be checked.
        mine = "" if self._db.local else "AND worker = ? "
        params = (*LIVE_VALUES, *(() if self._db.local else (this_machine(),)))

        async def work(conn: Connection) -> list[str]:
            cursor = await conn.execute(
                f"SELECT id, owner_pid, updated_at FROM executions WHERE status IN ({marks}) "
                f"AND NOT (status = 'queued' AND mode = 'production') {mine}",
                params,
            )
            found = [tuple(row) for row in await cursor.fetchall()]
            dead = [row for row in found if not pid_alive(row[1])]
            now = time.time()
            for execution_id, owner_pid, updated_at in dead:
                error = rows.interrupted_error(owner_pid, updated_at, now)
                await rows.finish_row(
                    conn, execution_id, ExecutionStatus.INTERRUPTED, None, error, now
                )
            return [str(row[0]) for row in dead]

        return await self._db.write(work)

    async def claim(self, execution_id: str) -> bool:
        """Make this process the owner of a queued execution (a restarted `flowrun serve`
        taking over its predecessor's queue); False when it is no longer queued."""

        async def work(conn: Connection) -> bool:
            cursor = await conn.execute(
                "UPDATE executions SET owner_pid = ?, updated_at = ?, worker = ? "
                "WHERE id = ? AND status = 'queued'",
                (os.getpid(), time.time(), this_machine(), execution_id),
            )
            return bool(cursor.rowcount == 1)

        return await self._db.write(work)

    async def claim_delivery(self, execution_id: str, *, worker: str, redeliver: bool) -> str:
        """A queue worker takes a delivered execution: "run", "ended" (nothing to run) or
        "missing" (`flowrun.history.delivery`)."""
        pid = os.getpid()
        return await self._db.write(
            lambda conn: delivery.claim(
                conn, execution_id, worker=worker, pid=pid, redeliver=redeliver
            )
        )

    async def attempt_of(self, execution_id: str) -> int | None:
        """The execution's current delivery attempt (queue mode)."""
        row = await self._db.one("SELECT attempt FROM executions WHERE id = ?", (execution_id,))
        return None if row is None else int(row["attempt"])

    async def end_attempt(
        self, execution_id: str, attempt: int, *, status: str, error: Payload
    ) -> None:
        """Record how an attempt that a later delivery took over really ended."""
        error_json = payloads.dump(error)
        await self._db.write(
            lambda conn: delivery.end_attempt(conn, execution_id, attempt, status, error_json)
        )

    async def statuses(self, execution_ids: list[str]) -> dict[str, str]:
        """The status of each execution found (for a batch following its rows)."""
        found: dict[str, str] = {}
        for start in range(0, len(execution_ids), 500):
            chunk = execution_ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for row in await self._db.all(
                f"SELECT id, status FROM executions WHERE id IN ({marks})", chunk
            ):
                found[str(row["id"])] = str(row["status"])
        return found

    async def worker_of(self, execution_id: str) -> str | None:
        """The machine, or the queue worker's name, that owns the execution."""
        row = await self._db.one("SELECT worker FROM executions WHERE id = ?", (execution_id,))
        return None if row is None or row["worker"] is None else str(row["worker"])

    async def attempts(self, execution_id: str) -> list[dict[str, Any]]:
        """The earlier delivery attempts of an execution (each ended `interrupted`)."""
        return await self._db.all(
            "SELECT attempt, worker, status, started_at, finished_at, error "
            "FROM execution_attempts WHERE execution_id = ? ORDER BY attempt",
            (execution_id,),
        )

    async def prune(self, workflow_id: str | None = None, file: str | None = None) -> int:
        """Keep the newest `retention` executions per workflow file; shrink the file. Returns
        the number of executions deleted."""
        return await retention.prune(self._db, self.retention, workflow_id, file)

    # -- reading ------------------------------------------------------------------------

    async def list_executions(self, **filters: Unpack[ExecutionFilter]) -> list[ExecutionSummary]:
        return await reader.list_executions(self._db, **filters)

    async def execution_tree(self, execution_id: str) -> ExecutionTree:
        await self.flush()  # also waits for a batch already being written
        return await reader.execution_tree(self._db, execution_id)

    async def execution_part(
        self, execution_id: str, *, stage: Any = ..., node_id: str | None = None
    ) -> ExecutionTree:
        return await reader.execution_part(self._db, execution_id, stage=stage, node_id=node_id)

    async def resolve_id(self, prefix: str) -> str:
        return await reader.resolve_id(self._db, prefix)

    async def workflow_stats(
        self, workflow_id: str, file: str | None = None
    ) -> WorkflowStats | None:
        return await reader.workflow_stats(self._db, workflow_id, file)

    async def workflow_costs(self, **window: Unpack[CostWindow]) -> list[WorkflowCost]:
        await self.flush()  # what this store wrote is counted
        return await stats.workflow_costs(self._db, **window)

    async def process_of(self, execution_id: str) -> tuple[int | None, int | None]:
        return await reader.process_of(self._db, execution_id)

    async def node_outputs(self, execution_id: str) -> dict[str, Any]:
        await self.flush()  # also waits for a batch already being written
        return await reader.node_outputs(self._db, execution_id)

    async def node_hashes(self, execution_id: str) -> dict[str, str]:
        await self.flush()
        return await reader.node_hashes(self._db, execution_id)

    async def status_of(self, execution_id: str) -> str | None:
        return await reader.status_of(self._db, execution_id)

    # -- internals ------------------------------------------------------------------------

    async def _replay(self, conn: Connection) -> None:
        """A fresh file after damage: the executions still going get their rows again."""
        for record in self._active.values():
            await rows.insert_execution(conn, record)

    def _spawn(self, work: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("history: background write failed", exc_info=task.exception())


def _record(execution: NewExecution, now: float) -> rows.ExecutionRecord:
    status = execution.get("status", ExecutionStatus.QUEUED)
    owner_pid = execution.get("owner_pid")
    return rows.ExecutionRecord(
        execution_id=execution["execution_id"],
        workflow_id=execution["workflow_id"],
        file=execution["file"],
        status=str(status),
        trigger=payloads.dump(execution["trigger"]),
        inputs=payloads.dump(execution["inputs"]),
        created_at=now,
        started_at=None if status == ExecutionStatus.QUEUED else now,
        owner_pid=os.getpid() if owner_pid is None else owner_pid,
        columns={
            **columns.created(execution),
            "worker": execution.get("worker") or this_machine(),
        },
    )
