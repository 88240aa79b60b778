"""Engine events → writes for the history (no I/O: the store runs them in batches).

Execution and stage events become SQL statements; `execution_finished` ends the execution
(`Finish`), so once its batch is committed the execution reads as ended. Node events become
*patches* of one node-attempt row; a batch merges the patches of each row (a node that
starts, logs and finishes within 50 ms is one row write) and upserts them all with one
executemany.

One `EventRecorder` per store. It remembers, per node attempt, what `node_log` events do
not carry (the current attempt), its status and start time, and how many log bytes were
kept, to cap the logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flowrun.history import columns, payloads
from flowrun.status import ExecutionStatus, NodeStatus
from flowrun_engine import events as ev
from flowrun_engine.events import LOG_BYTES_LIMIT, LOG_LINES_LIMIT

Op = tuple[str, tuple[Any, ...]]
ENGINE_CUT_MARK = "output truncated"  # in the engine's `info` line when it stops forwarding
NodeKey = tuple[str, str, int]  # execution id, node id, iteration (0 outside loops)
RowKey = tuple[str, str, int, int]  # ... and the attempt

EXECUTION_STARTED = """UPDATE executions SET
    status = CASE WHEN status = 'queued' THEN 'running' ELSE status END,
    started_at = coalesce(started_at, ?), plan = ? WHERE id = ?"""
STAGE_UPSERT = """INSERT INTO stage_executions
    (execution_id, stage_id, iteration, status, started_at, finished_at, error)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (execution_id, stage_id, iteration) DO UPDATE SET status = excluded.status,
    started_at = coalesce(excluded.started_at, stage_executions.started_at),
    finished_at = coalesce(excluded.finished_at, stage_executions.finished_at),
    error = coalesce(excluded.error, stage_executions.error)"""
PATCH_COLUMNS = columns.NODE_PATCHED
_KEEP = ", ".join(
    f"{c} = max(excluded.{c}, node_executions.{c})" if c in columns.NODE_FLAGS else
    f"{c} = coalesce(excluded.{c}, node_executions.{c})"
    for c in PATCH_COLUMNS if c != "status"
)  # fmt: skip
NODE_UPSERT = f"""INSERT INTO node_executions
    (execution_id, node_id, iteration, attempt, {", ".join(PATCH_COLUMNS)}, logs)
    VALUES (?, ?, ?, ?, {", ".join("?" for _ in PATCH_COLUMNS)}, ?)
    ON CONFLICT (execution_id, node_id, iteration, attempt) DO UPDATE SET
    status = excluded.status, {_KEEP},
    logs = CASE WHEN excluded.logs IS NULL THEN node_executions.logs
    ELSE coalesce(node_executions.logs, '') || excluded.logs END"""


@dataclass
class NodePatch:
    """New values for one node-attempt row; `status` is always the row's latest."""

    key: RowKey
    values: dict[str, Any]
    logs: str = ""

    def merge(self, later: NodePatch) -> None:
        """Later values win, but None never erases (as coalesce does in the upsert)."""
        self.values.update({k: v for k, v in later.values.items() if v is not None})
        self.logs += later.logs

    def params(self) -> tuple[Any, ...]:
        values = [
            (self.values.get(c) or 0) if c in columns.NODE_FLAGS else self.values.get(c)  # NOT NULL
            for c in PATCH_COLUMNS
        ]
        return (*self.key, *values, self.logs or None)


@dataclass(frozen=True)
class Finish:
    """End the execution (status, outputs, error; JSON text), after the node rows before it."""

    execution_id: str
    status: str
    outputs: str | None
    error: str | None
    finished_at: float


Write = Op | NodePatch | Finish
Statement = tuple[str, list[tuple[Any, ...]]] | Finish


@dataclass
class _Attempt:
    status: str = NodeStatus.RUNNING
    started_at: float | None = None
    log_kept: int = 0  # bytes of stored log lines (JSON), against the cap
    log_dropped: int = 0  # bytes of log text not stored
    text_received: int = 0  # bytes of log text that reached the recorder
    engine_cut: bool = False  # the engine stopped forwarding this node's output
    stage: Any = None


class EventRecorder:
    def __init__(self, *, log_cap: int = payloads.CAP_BYTES) -> None:
        self._log_cap = log_cap
        self._current: dict[NodeKey, int] = {}
        self._attempts: dict[RowKey, _Attempt] = {}
        self._handlers: dict[str, Callable[[str, Mapping[str, Any], float], list[Write]]] = {
            ev.EXECUTION_STARTED: self._execution_started,
            ev.EXECUTION_FINISHED: self._execution_finished,
            ev.STAGE_STARTED: self._stage_started,
            ev.STAGE_FINISHED: self._stage_finished,
            ev.NODE_STARTED: self._node_started,
            ev.NODE_LOG: self._node_log,
            ev.NODE_RETRY: self._node_retry,
            ev.NODE_FINISHED: self._node_finished,
        }

    def ops(self, execution_id: str, event: Mapping[str, Any]) -> list[Write]:
        """The writes that record `event`; [] for events the history does not keep."""
        handler = self._handlers.get(str(event.get("event")))
        if handler is None:
            return []
        t = event.get("t")
        return handler(execution_id, event, float(t) if isinstance(t, int | float) else time.time())

    def forget(self, execution_id: str) -> None:
        self._current = {k: v for k, v in self._current.items() if k[0] != execution_id}
        self._attempts = {k: v for k, v in self._attempts.items() if k[0] != execution_id}

    def _execution_started(self, eid: str, event: Mapping[str, Any], t: float) -> list[Write]:
        return [(EXECUTION_STARTED, (t, payloads.dump(event.get("plan")), eid))]

    def _execution_finished(self, eid: str, event: Mapping[str, Any], t: float) -> list[Write]:
        outputs, error = payloads.dump(event.get("outputs")), payloads.dump(event.get("error"))
        status = str(event.get("status") or ExecutionStatus.FAILED)
        return [Finish(eid, status, outputs, error, t if t > 0 else time.time())]

    def _stage_started(self, eid: str, event: Mapping[str, Any], t: float) -> list[Write]:
        stage, iteration = _stage_key(event)
        return [(STAGE_UPSERT, (eid, stage, iteration, NodeStatus.RUNNING, t, None, None))]

    def _stage_finished(self, eid: str, event: Mapping[str, Any], t: float) -> list[Write]:
        stage, iteration = _stage_key(event)
        status = str(event.get("status") or NodeStatus.SUCCEEDED)
        error = payloads.dump(event.get("error"))
        return [(STAGE_UPSERT, (eid, stage, iteration, status, None, t, error))]

    def _node_started(self, eid: str, event: Mapping[str, Any], t: float) -> list[Write]:
        key = _node_key(eid, event)
        attempt = _int(event.get("attempt"), 1)
        self._current[key] = attempt
        row = self._attempts[(*key, attempt)] = _Attempt(started_at=t, stage=event.get("stage"))
        values = {
            **_node_fields(event),
            "stage": row.stage,
            "status": NodeStatus.RUNNING,
            "started_at": t,
        }
        return [NodePatch((*key, attempt), values)]

    def _node_log(self, eid: str, event: Mapping[str, Any], t: float) -> list[Write]:
        key = _node_key(eid, event)
        attempt = self._current.get(key)
        if attempt is None:  # a log before its node_started: open the attempt
            attempt = self._current[key] = _int(event.get("attempt"), 1)
        row_key = (*key, attempt)
        opened = row_key not in self._attempts
        row = self._row(row_key, event.get("stage"), t)
        text = str(event.get("text", ""))
        stream = str(event.get("stream") or "stdout")
        patch = self._log_patch(row_key, row, t, stream, text)
        if opened:
            patch.values["started_at"] = t
        return [patch]

    def _node_retry(self, eid: str, event: Mapping[str, Any], t: float) -> list[Write]:
        key = _node_key(eid, event)
        attempt = self._current.get(key, _int(event.get("attempt"), 1))
        row_key = (*key, attempt)
        row = self._row(row_key, event.get("stage"), t)
        error = event.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        note = f"attempt {attempt} failed: {message}; retrying in {event.get('delay')} s"
        patch = self._log_patch(row_key, row, t, "info", note)
        row.status = NodeStatus.FAILED
        patch.values.update(
            status=NodeStatus.FAILED,
            error=payloads.dump(error),
            finished_at=t,
            duration_ms=_ms(t - row.started_at) if row.started_at is not None else None,
        )
        patch.logs += self._close_log(row_key)
        return [patch]

    def _node_finished(self, eid: str, event: Mapping[str, Any], t: float) -> list[Write]:
        key = _node_key(eid, event)
        attempt = _int(event.get("attempt"), self._current.get(key, 0))
        row_key = (*key, attempt)
        status = str(event.get("status") or NodeStatus.SUCCEEDED)
        values = {
            **_node_fields({**event, **metric_fields(event.get("metrics"))}),
            "stage": event.get("stage"),
            "status": status,
            "finished_at": t,
        }
        patch = NodePatch(row_key, values, self._close_log(row_key))
        self._attempts.pop(row_key, None)
        return [patch]

    def _row(self, row_key: RowKey, stage: Any, t: float) -> _Attempt:
        row = self._attempts.get(row_key)
        if row is None:
            row = self._attempts[row_key] = _Attempt(started_at=t, stage=stage)
        return row

    def _log_patch(
        self, row_key: RowKey, row: _Attempt, t: float, stream: str, text: str
    ) -> NodePatch:
        patch = NodePatch(row_key, {"stage": row.stage, "status": row.status})
        line = payloads.log_line(t, stream, text, row_key[3])
        size = len(line.encode())
        row.text_received += len(text.encode())
        if stream == "info" and ENGINE_CUT_MARK in text:
            row.engine_cut = True
        if row.log_dropped or row.log_kept + size > self._log_cap:
            if not row.log_dropped:
                note = f"logs cut by flowrun at {payloads.human_size(self._log_cap)}"
                patch.logs = payloads.log_line(t, "info", note, row_key[3])
            row.log_dropped += len(text.encode())
            return patch
        row.log_kept += size
        patch.logs = line
        return patch

    def _close_log(self, row_key: RowKey) -> str:
        """When a node attempt ends, say how much of its log was not kept."""
        row = self._attempts.get(row_key)
        if row is None or not row.log_dropped:
            return ""
        return payloads.log_line(None, "info", truncation_note(row), row_key[3])


def truncation_note(row: _Attempt) -> str:
    """What was not stored, in the units it was counted in; the node's full output size is
    unknown when the engine had already stopped forwarding it."""
    dropped, received = payloads.human_size(row.log_dropped), payloads.human_size(row.text_received)
    note = f"{dropped} of the {received} of log text that reached flowrun were not stored"
    if row.engine_cut:
        note += (
            "; the node wrote more than that, which the engine did not forward (at most "
            f"{payloads.human_size(LOG_BYTES_LIMIT)} or {LOG_LINES_LIMIT:,} lines per node "
            "attempt), so its full size is not known"
        )
    return note


def compact(writes: list[Write]) -> list[Statement]:
    """Statements grouped for executemany, in order, with one upsert per node-attempt row
    (before any `Finish`, which must see the execution's node rows)."""
    groups: list[Statement] = []
    patches: dict[RowKey, NodePatch] = {}
    for write in writes:
        if isinstance(write, Finish):
            if patches:
                groups.append((NODE_UPSERT, [patch.params() for patch in patches.values()]))
                patches = {}
            groups.append(write)
        elif isinstance(write, NodePatch):
            if write.key in patches:
                patches[write.key].merge(write)
            else:
                patches[write.key] = NodePatch(write.key, dict(write.values), write.logs)
        elif groups and not isinstance(last := groups[-1], Finish) and last[0] == write[0]:
            last[1].append(write[1])
        else:
            groups.append((write[0], [write[1]]))
    if patches:
        groups.append((NODE_UPSERT, [patch.params() for patch in patches.values()]))
    return groups


def metric_fields(metrics: Any) -> dict[str, Any]:
    """`node_finished.metrics` (flowrun_engine.metrics) as the node's column fields: the
    design §9 metric columns, and `metrics` with the rest (provider, model, http status and
    bytes, calls without a known cost) in the wire's camelCase."""
    if not isinstance(metrics, Mapping):
        return {}
    found: dict[str, Any] = {c: _number(metrics.get(c)) for c in columns.METRIC_COLUMNS}
    rest = {_camel(k): v for k, v in metrics.items() if k not in columns.METRIC_COLUMNS}
    found["metrics"] = rest or None
    return found


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _node_fields(event: Mapping[str, Any]) -> dict[str, Any]:
    """The node columns (`columns.NODE_COLUMNS`) the event carries a field of the same name for."""
    return {c.name: c.write(event[c.name]) for c in columns.NODE_COLUMNS if c.name in event}


def _node_key(eid: str, event: Mapping[str, Any]) -> NodeKey:
    return (eid, str(event.get("node")), _int(event.get("iteration"), 0))


def _stage_key(event: Mapping[str, Any]) -> tuple[str, int]:
    return (str(event.get("stage")), _int(event.get("iteration"), 0))


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))
