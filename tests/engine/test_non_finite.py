"""Infinity and NaN never leave the engine as bare JSON tokens (issue 12.10)."""

from __future__ import annotations

import json
import os

import pytest

from conftest import Engine, node, workflow
from flowrun_engine import expr
from flowrun_engine.events import FdSink


@pytest.mark.parametrize("text", ["1e999", "-1e999"])
def test_a_literal_beyond_a_float_is_a_syntax_error(text: str) -> None:
    with pytest.raises(expr.ExprSyntaxError, match="too large: JSON has no Infinity"):
        expr.parse(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e308 * 10", "number too large in '*'"),
        ("json('NaN')", "NaN is not a JSON number"),
        ("json('[1e999]')", "too large"),
        ("json('Infinity')", "Infinity is not a JSON number"),
    ],
)
def test_a_non_finite_result_is_an_evaluation_error(text: str, message: str) -> None:
    with pytest.raises(expr.ExprEvalError, match=message):
        expr.evaluate(expr.parse(text), {})


def test_the_event_line_is_valid_json_even_with_infinity_inside() -> None:
    read, write = os.pipe()
    FdSink(write).emit({"event": "x", "values": [float("inf"), float("-inf"), float("nan")]})
    os.close(write)
    with os.fdopen(read) as f:
        line = f.readline()
    assert "Infinity" in line
    json.loads(line, parse_constant=lambda c: pytest.fail(f"bare {c} in {line}"))
    assert json.loads(line)["values"] == ["Infinity", "-Infinity", "NaN"]


def test_nodes_cannot_produce_infinity(engine: Engine) -> None:
    run = engine(
        workflow(
            node(
                "py",
                "python",
                with_={"code": "def main():\n    return float('inf')"},
                on_failure="continue",
            ),
            node(
                "sh", "shell", with_={"run": "echo '[NaN]'", "parse": "json"}, on_failure="continue"
            ),
        )
    )
    assert run.node_status("py") == "failed" and run.node_status("sh") == "failed"
    assert "Infinity" not in run.raw and "NaN]" in run.raw  # the stdout text, not a number
