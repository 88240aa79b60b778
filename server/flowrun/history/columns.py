"""The stored columns of the history, read off the models (`flowrun.history.models`).

A field of `ExecutionHead` or `NodeElement` that is not in `HEAD_DERIVED` / `NODE_DERIVED`
(which `tree.py` computes) is the column of the same name in snake_case (`durationMs` →
`duration_ms`), and its type says how it is stored:

* `bool`: a flag, INTEGER 0/1 (a node's flag is never cleared once set);
* `Any`: JSON text (`payloads`);
* anything else: the value as it is.

So a new column is a numbered migration, a field in `models.py` and its mirror in
`extension/src/protocol.ts`: the summary's and tree's SELECTs, the summary and tree builders,
for a node the recorder (which copies the `node_started` / `node_finished` event field of the
column's name), and for an execution `create_execution` (which writes the `NewExecution` key of
the column's name: a value known at creation is then one more line, in `interface.py`) all
derive from this table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_type_hints

from flowrun.history import payloads
from flowrun.history.models import ExecutionHead, NodeElement

Kind = Literal["flag", "json", "value"]

HEAD_DERIVED = frozenset({"startedAt", "finishedAt"})
NODE_DERIVED = frozenset(
    {"kind", "id", "type", "name", "stage", "iteration", "status", "attempts", "startedAt",
     "finishedAt", "logs", "retries", "pinned"}
)  # fmt: skip


@dataclass(frozen=True)
class Column:
    field: str  # the key in the wire shape
    name: str  # the SQL column
    kind: Kind

    def read(self, row: Any) -> Any:
        """The field's value from a stored row (a column the row lacks reads as empty)."""
        return _READERS[self.kind](row.get(self.name))

    def write(self, value: Any) -> Any:
        """The column's value for an event's field."""
        if self.kind == "flag":
            return 1 if value else 0
        return payloads.dump(value) if self.kind == "json" else value


_READERS: dict[str, Callable[[Any], Any]] = {
    "flag": bool,
    "json": payloads.load,
    "value": lambda value: value,
}


def column_name(field: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", field).lower()


def stored(shape: type, derived: frozenset[str]) -> tuple[Column, ...]:
    hints = get_type_hints(shape)
    return tuple(
        Column(field, column_name(field), _kind(hint))
        for field, hint in hints.items()
        if field not in derived
    )


def _kind(hint: Any) -> Kind:
    if hint is bool:
        return "flag"
    return "json" if hint is Any else "value"


HEAD_COLUMNS = stored(ExecutionHead, HEAD_DERIVED)
NODE_COLUMNS = stored(NodeElement, NODE_DERIVED)

# (field, column, reader) of each stored field, for the tree builder's inner loop
Readers = tuple[tuple[str, str, Callable[[Any], Any]], ...]
HEAD_READERS: Readers = tuple((c.field, c.name, _READERS[c.kind]) for c in HEAD_COLUMNS)
NODE_READERS: Readers = tuple((c.field, c.name, _READERS[c.kind]) for c in NODE_COLUMNS)

# What the summary reads of an execution row: its stored head fields and what the derived
# ones (and the summary's trigger and error) are computed from.
SUMMARY_SELECT = ", ".join(
    dict.fromkeys(
        [*(c.name for c in HEAD_COLUMNS), "created_at", "started_at", "finished_at", "trigger",
         "error"]
    )
)  # fmt: skip

# What a node measured of its cost (design §9): its own columns, summed into the execution's
# at its end (`rows.add_totals`) and into the daily aggregates (`daily`).
METRIC_COLUMNS = ("llm_calls", "input_tokens", "output_tokens", "cost_usd")

# The stored head columns `create_execution` takes as they are, under their column names
# (`NewExecution`: `mode`, ...); one left out gets the column's default.
_WRITTEN_APART = ("id", "workflow_id", "file", "status", "duration_ms",
                  # what it cost (rows.add_totals, at its end) and its trace (set_trace_id)
                  *METRIC_COLUMNS, "trace_id")  # fmt: skip
CREATED = tuple(c.name for c in HEAD_COLUMNS if c.name not in _WRITTEN_APART)


def created(execution: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of `CREATED` a new execution gives."""
    return {name: execution[name] for name in CREATED if name in execution}


# A node-attempt row's columns that events fill (`recorder.NODE_UPSERT`), after its key.
NODE_KEY = ("execution_id", "node_id", "iteration", "attempt")
NODE_PATCHED = tuple(
    dict.fromkeys(
        ["stage", "status", *(c.name for c in NODE_COLUMNS), "started_at", "finished_at"]
    )
)  # fmt: skip
NODE_FLAGS = tuple(c.name for c in NODE_COLUMNS if c.kind == "flag")
