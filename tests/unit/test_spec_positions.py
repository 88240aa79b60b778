from __future__ import annotations

from flowrun.spec.positions import LineIndex, Position, Range


def test_ascii_offsets_map_to_line_and_column() -> None:
    index = LineIndex("ab\ncd\n")
    assert index.position(0) == Position(0, 0)
    assert index.position(4) == Position(1, 1)
    assert index.position(6) == Position(2, 0)
    assert index.line_count == 3


def test_offsets_are_clamped_to_the_text() -> None:
    index = LineIndex("ab")
    assert index.position(-5) == Position(0, 0)
    assert index.position(99) == Position(0, 2)


def test_crlf_and_lone_cr_are_one_line_break_each() -> None:
    index = LineIndex("a\r\nb\rc")
    assert index.position(3) == Position(1, 0)
    assert index.position(5) == Position(2, 0)
    assert index.line_end(0) == 1
    assert index.line_end(3) == 4
    assert index.line_end(5) == 6


def test_columns_count_utf16_code_units_for_non_bmp_characters() -> None:
    text = "a: 😀😀x\né: y"
    index = LineIndex(text)
    assert index.position(text.index("x")) == Position(0, 7)  # two surrogate pairs
    assert index.position(text.index("y")) == Position(1, 3)  # é is one unit


def test_line_separators_other_than_lsp_ones_do_not_break_lines() -> None:
    text = "a\u2028b\nc"
    assert LineIndex(text).position(text.index("c")) == Position(1, 0)


def test_range_helpers_and_display() -> None:
    index = LineIndex("abc\ndef")
    assert index.range(4, 6) == Range.of(1, 0, 1, 2)
    assert str(Position(0, 0)) == "1:1"
    assert index.line_start(6) == 4
