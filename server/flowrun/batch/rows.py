"""The input rows of a batch: JSON Lines (one object per line, typed values) or CSV (a header
row names the inputs; the text is typed by the workflow's `inputs`, as `--input k=v` is)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from flowrun.runs.errors import FlowrunError

FORMATS = "One JSON object per line (JSON Lines), or a .csv file with a header."


class RowsError(FlowrunError):
    type_name = "InputError"


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Every row, in file order; raises `RowsError` naming the file and line of a bad one."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RowsError(f"Cannot read the inputs file {path}: {exc.strerror or exc}") from None
    if path.suffix.lower() == ".csv":
        return _csv_rows(text)
    return _jsonl_rows(path, text)


def _jsonl_rows(path: Path, text: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RowsError(f"{path}:{number}: not JSON ({exc.msg}).", suggestion=FORMATS) from None
        if not isinstance(row, dict):
            raise RowsError(
                f"{path}:{number}: a row must be a JSON object of input values.", suggestion=FORMATS
            )
        rows.append(row)
    return rows


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(text.splitlines())
    # an empty cell is an input left out (its default applies), not an empty string
    return [{k: v for k, v in row.items() if k and v not in (None, "")} for row in reader]
