"""The corpus: bad files under tests/corpus, each with its expected diagnostics next to it.

Regenerate the expectations after an intended change with
`FLOWRUN_UPDATE_CORPUS=1 .venv/bin/pytest tests/unit/test_validate_corpus.py`, then review
the diff of the .expected.json files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from flowrun.validate import Diagnostic, validate_file

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FILES = sorted(CORPUS.glob("*.workflow.yml"))


def expected_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".workflow.yml") + ".expected.json")


def as_json(d: Diagnostic) -> dict[str, Any]:
    r = d.range
    item: dict[str, Any] = {
        "range": [r.start.line, r.start.character, r.end.line, r.end.character],
        "severity": str(d.severity),
        "code": d.code,
        "message": d.message,
    }
    if d.related:
        item["related"] = [
            [x.range.start.line, x.range.start.character, x.message] for x in d.related
        ]
    return item


def test_the_corpus_covers_every_code_of_one_file() -> None:
    from flowrun.validate import codes

    # not seen in one file of the corpus: the daemon's check, the workspace rule, the size
    # limit and the validator's own crash (each tested on its own)
    elsewhere = {
        codes.MISSING_DEPENDENCY,
        codes.DUPLICATE_WORKFLOW_ID,
        codes.ROUTE_CONFLICT,
        codes.STALE_PIN,
        codes.FILE_TOO_LARGE,
        codes.INTERNAL_ERROR,
    }

    seen = {
        item["code"]
        for path in FILES
        for item in json.loads(expected_path(path).read_text(encoding="utf-8"))
    }
    assert seen == set(codes.ALL_CODES) - elsewhere


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_file(path: Path) -> None:
    actual = [as_json(d) for d in validate_file(path).diagnostics]
    expected_file = expected_path(path)
    if os.environ.get("FLOWRUN_UPDATE_CORPUS"):
        text = json.dumps(actual, indent=2, ensure_ascii=False) + "\n"
        expected_file.write_text(text, encoding="utf-8")
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    assert actual == expected
