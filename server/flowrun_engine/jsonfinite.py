"""JSON without Infinity and NaN: Python's json module reads and writes them, JSON does not.

A bare `Infinity` in an event line or a reply makes it invalid JSON for every other reader
(the extension's JSON-RPC, `--json` consumers), so the engine reads JSON with `loads` (which
refuses them, and numbers too large for a float) and writes events through `dumps_event`,
which turns any non-finite number left in a value into the strings "Infinity", "-Infinity"
or "NaN".
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


def loads(text: str | bytes) -> Any:
    """json.loads, but NaN, Infinity and numbers beyond a float's range are a ValueError."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)


def dumps(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """json.dumps; a value holding a non-finite number is a ValueError."""
    return json.dumps(value, allow_nan=False, default=default)


def dumps_event(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """Always valid JSON: non-finite numbers are written as strings."""
    try:
        return json.dumps(value, allow_nan=False, default=default)
    except ValueError:
        return json.dumps(finite(value), allow_nan=False, default=default)


def finite(value: Any) -> Any:
    """`value` with each non-finite float replaced by "Infinity", "-Infinity" or "NaN"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value
