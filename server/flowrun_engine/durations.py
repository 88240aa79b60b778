"""Durations in workflow files: `"500ms"`, `"30s"`, `"2m"`, `"1h"`, `"1m30s"` or seconds."""

from __future__ import annotations

import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
ACCEPTED = "a number of seconds or a number with a unit: '500ms', '30s', '2m', '1h' (or '1m30s')"


def parse_duration(value: str | int | float) -> float:
    """Seconds in a duration; raises ValueError naming the accepted forms."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"invalid duration {value!r}: use {ACCEPTED}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"invalid duration {value!r}: use {ACCEPTED}")
        return float(value)
    text = value.strip().lower()
    if _NUMBER.fullmatch(text):
        return float(text)
    parts = _PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"invalid duration {value!r}: use {ACCEPTED}")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)
