"""Durations: units, plain numbers and the message for a bad value."""

from __future__ import annotations

import pytest

from flowrun_engine.durations import parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("500ms", 0.5),
        ("30s", 30.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1.5s", 1.5),
        ("1m30s", 90.0),
        ("1h2m3s4ms", 3723.004),
        (" 10S ", 10.0),
        ("45", 45.0),
        ("0.25", 0.25),
        (3, 3.0),
        (0, 0.0),
        (2.5, 2.5),
    ],
)
def test_parse_duration(value: str | int | float, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)
    assert isinstance(parse_duration(value), float)


@pytest.mark.parametrize(
    "value",
    ["", "s", "10 s", "1d", "ten", "-1s", "1.s", "5m x", -1, float("inf"), float("nan"), True],
)
def test_bad_durations_name_the_accepted_forms(value: object) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value)  # type: ignore[arg-type]
    assert "invalid duration" in str(info.value)
    assert "'500ms', '30s', '2m', '1h'" in str(info.value)


def test_wrong_type() -> None:
    with pytest.raises(ValueError, match="invalid duration None"):
        parse_duration(None)  # type: ignore[arg-type]
