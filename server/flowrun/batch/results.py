"""What a batch says about each row, and the results file (`--out`): one JSON line per input
row, in input order."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO, TypedDict

from flowrun.history.interface import HistoryBackend


class RowResult(TypedDict):
    execution_id: str | None  # None: the row was refused before any execution (bad inputs)
    status: str
    outputs: Any
    error: Any


async def from_history(store: HistoryBackend, execution_id: str, status: str) -> RowResult:
    """The result of an ended execution, as recorded."""
    tree = await store.execution_tree(execution_id)
    return {
        "execution_id": execution_id,
        "status": status,
        "outputs": tree.get("outputs"),
        "error": tree.get("error"),
    }


def refused(error: dict[str, Any]) -> RowResult:
    return {"execution_id": None, "status": "failed", "outputs": None, "error": error}


def write_results(out: TextIO, results: Iterable[RowResult]) -> None:
    for row, result in enumerate(results):
        out.write(json.dumps({"row": row, **result}, default=str) + "\n")
