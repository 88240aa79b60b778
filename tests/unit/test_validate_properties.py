"""Property tests: random edits of valid files never crash the validator, and every range
(diagnostic, related information, fix edit) stays inside the edited text."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowrun.validate import Diagnostic, Range, validate_text
from flowrun.validate.api import MAX_FILE_BYTES
from unit.helpers import VALID

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEEDS = [VALID.lstrip("\n")] + [p.read_text() for p in sorted(EXAMPLES.glob("*.workflow.yml"))]
LINE_BREAK = re.compile(r"\r\n|\r|\n")

PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def utf16_lengths(text: str) -> list[int]:
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = LINE_BREAK.split(text)
    return [len(line.encode("utf-16-le")) // 2 for line in lines]


def assert_inside(where: Range, lengths: list[int]) -> None:
    for pos in (where.start, where.end):
        assert 0 <= pos.line < len(lengths), (where, len(lengths))
        assert 0 <= pos.character <= lengths[pos.line], (where, lengths[pos.line])
    assert where.start <= where.end


def assert_sound(text: str, diagnostics: list[Diagnostic]) -> None:
    lengths = utf16_lengths(text)
    for d in diagnostics:
        assert not d.message.startswith("flowrun could not check"), d.message
        assert d.message and d.code
        assert_inside(d.range, lengths)
        for related in d.related:
            assert_inside(related.range, lengths)
        if d.fix is not None:
            for edit_range, _ in d.fix.edits:
                assert_inside(edit_range, lengths)


@st.composite
def edited(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(SEEDS)).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        kind = draw(st.sampled_from(["delete", "swap", "insert", "duplicate", "cut"]))
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if kind == "delete":
            del lines[i]
        elif kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "duplicate":
            lines.insert(j, lines[i])
        elif kind == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            junk = draw(st.text(min_size=1, max_size=8))
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + junk + lines[i][at:]
    return "".join(lines)


@PROPERTY_SETTINGS
@given(edited())
def test_random_line_edits_never_crash_and_stay_inside(text: str) -> None:
    assert_sound(text, validate_text(text, "p.workflow.yml").diagnostics)


@PROPERTY_SETTINGS
@given(st.sampled_from(SEEDS), st.binary(min_size=1, max_size=12), st.integers(0, 10_000))
def test_random_bytes_decoded_leniently_never_crash(seed: str, junk: bytes, at: int) -> None:
    at = at % (len(seed) + 1)
    text = seed[:at] + junk.decode("latin-1") + seed[at:]
    assert_sound(text, validate_text(text, "p.workflow.yml").diagnostics)


@PROPERTY_SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text: str) -> None:
    assert_sound(text, validate_text(text, "p.workflow.yml").diagnostics)


def test_a_file_over_the_size_limit_gets_one_diagnostic_instead_of_a_validation() -> None:
    filler = "".join(f"  k{i}: {'x' * 90}\n" for i in range(25_000))
    text = "version: 1\nx-filler:\n" + filler + "nodes: [{id: a, type: shell, with: {run: ls}}]\n"
    assert len(text) > MAX_FILE_BYTES
    [d] = validate_text(text, "big.workflow.yml").diagnostics
    assert d.code == "file-too-large" and "over 2 MB are not validated" in d.message
    under = "version: 1\nx-filler:\n" + filler[: MAX_FILE_BYTES - 200] + "\n"
    under = under[: under.rfind("\n", 0, MAX_FILE_BYTES - 100) + 1]
    under += "nodes: [{id: a, type: shell, with: {run: ls}}]\n"
    assert validate_text(under, "big.workflow.yml").diagnostics == []
