from __future__ import annotations

from flowrun.spec.loader import MAX_DEPTH, MAX_EXPANDED, load_data, load_yaml
from flowrun.spec.positions import Range


def spans_text(text: str, span: tuple[int, int]) -> str:
    return text[span[0] : span[1]]


def test_scalars_are_typed_by_the_yaml_1_2_core_schema() -> None:
    result = load_yaml(
        "a: 1\nb: 1.5\nc: yes\nd: ~\ne: '1'\nf: 0x10\ng: 2024-01-01\nh: !custom x\n"
        "i: NO\nj: 012\nk: 0o12\nl: 1:30\nm: 1_000\nn: TRUE\no: off\np: False\n"
    )
    assert result.problems == []
    assert result.data == {
        "a": 1,
        "b": 1.5,
        "c": "yes",
        "d": None,
        "e": "1",
        "f": 16,
        "g": "2024-01-01",
        "h": "x",
        "i": "NO",
        "j": 12,
        "k": 10,
        "l": "1:30",
        "m": "1_000",
        "n": True,
        "o": "off",
        "p": False,
    }


def test_numbers_json_cannot_carry_are_a_problem_at_the_value() -> None:
    text = "a: .inf\nb: -.Inf\nc: .nan\nd: 1e999\ne: '.inf'\n"
    result = load_yaml(text)
    assert [spans_text(text, p.span) for p in result.problems] == [".inf", "-.Inf", ".nan", "1e999"]
    assert all(p.code == "schema" and "finite" in p.message for p in result.problems)
    assert result.data["e"] == ".inf"


def test_load_data_shares_the_alias_limit() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 7):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]\n"
    assert load_data(bomb) is None
    assert load_data("a: [1, yes]") == {"a": [1, "yes"]}
    assert MAX_EXPANDED < 10**6


def test_keys_are_kept_as_written() -> None:
    result = load_yaml("on: 1\n1: x\n")
    assert result.data == {"on": 1, "1": "x"}


def test_key_and_value_spans_point_at_the_tokens() -> None:
    text = "top:\n  key: value\n  list: [a, 'b']\n"
    source = load_yaml(text).source
    assert spans_text(text, source.keys[("top", "key")]) == "key"
    assert spans_text(text, source.values[("top", "key")]) == "value"
    assert spans_text(text, source.values[("top", "list", 1)]) == "'b'"
    assert source.range(source.keys[("top", "list")]) == Range.of(2, 2, 2, 6)
    assert source.range(source.values[("top", "list")]) == Range.of(2, 8, 2, 16)


def test_block_scalar_spans_drop_trailing_line_breaks() -> None:
    text = "a: |\n  hello\n  world\n\nb: 1\n"
    source = load_yaml(text).source
    assert spans_text(text, source.values[("a",)]) == "|\n  hello\n  world"


def test_token_span_falls_back_to_the_key_then_the_nearest_ancestor() -> None:
    text = "a:\nb:\n  c: 1\n"
    source = load_yaml(text).source
    assert spans_text(text, source.token_span(("a",))) == "a"  # empty value → key
    assert spans_text(text, source.token_span(("b", "c", "d"))) == "1"
    assert source.token_span(()) == (0, 12)  # the root mapping


def test_duplicate_keys_keep_the_first_and_point_at_the_second() -> None:
    text = "a: 1\nb: 2\na: 3\n"
    result = load_yaml(text)
    assert result.data == {"a": 1, "b": 2}
    [problem] = result.problems
    assert problem.code == "duplicate-key"
    assert problem.span == (10, 11)
    assert problem.related == ((0, 1), "first `a` here")


def test_merge_keys_and_aliases_are_expanded() -> None:
    text = "base: &base {x: 1, y: 2}\nm:\n  <<: *base\n  y: 3\nl:\n  <<: [*base, {z: 4}]\n"
    result = load_yaml(text)
    assert result.problems == []
    assert result.data["m"] == {"y": 3, "x": 1}
    assert result.data["l"] == {"x": 1, "y": 2, "z": 4}
    assert spans_text(text, result.source.values[("m", "x")]) == "1"


def test_a_merge_of_a_scalar_is_a_problem() -> None:
    result = load_yaml("m:\n  <<: 5\n  a: 1\n")
    assert [p.code for p in result.problems] == ["schema"]
    assert result.data == {"m": {"a": 1}}


def test_complex_keys_are_reported() -> None:
    result = load_yaml("? [a, b]\n: 1\nc: 2\n")
    assert [p.code for p in result.problems] == ["schema"]
    assert result.data == {"c": 2}


def test_recursive_anchor_is_a_problem_not_a_hang() -> None:
    result = load_yaml("a: &a [1, *a]\n")
    assert [p.code for p in result.problems] == ["yaml-syntax"]
    assert "recursive" in result.problems[0].message
    assert result.fatal


def test_recursive_merge_is_a_problem() -> None:
    result = load_yaml("a: &a\n  x: 1\n  <<: *a\n")
    assert any(p.code == "schema" for p in result.problems)


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    result = load_yaml("\n".join(lines) + "\n")
    assert result.data is None
    assert result.fatal and "aliases expand" in result.problems[0].message


def test_deep_nesting_is_cut_with_one_problem() -> None:
    depth = MAX_DEPTH + 50
    text = "a: " + "[" * depth + "]" * depth + "\n"
    result = load_yaml(text)
    assert [p.code for p in result.problems] == ["yaml-syntax"]
    assert "nesting deeper" in result.problems[0].message


def test_nesting_beyond_libyaml_limits_is_a_syntax_error() -> None:
    result = load_yaml("[" * 20000 + "]" * 20000)
    assert result.fatal and result.data is None


def test_syntax_error_points_at_the_parser_position() -> None:
    result = load_yaml("a: b: c\n")
    [problem] = result.problems
    assert problem.code == "yaml-syntax" and problem.span == (4, 5)
    assert problem.message.startswith("YAML syntax error: mapping values are not allowed")


def test_tab_indentation_gets_a_hint() -> None:
    result = load_yaml("a:\n\t- b\n")
    assert "a tab cannot indent YAML; use spaces" in result.problems[0].message
    assert result.problems[0].span == (3, 4)


def test_error_at_the_end_of_the_text_points_at_the_last_character() -> None:
    result = load_yaml("a: [")
    assert result.problems[0].span == (3, 4)
    result = load_yaml("a: [\n")
    assert result.problems[0].span == (5, 5)


def test_binary_garbage_is_a_reader_problem() -> None:
    result = load_yaml("a: 1\n\x00\x01\x02")
    [problem] = result.problems
    assert problem.code == "yaml-syntax" and "binary" in problem.message
    assert problem.span == (5, 6)


def test_bom_is_dropped_and_positions_follow_the_text_without_it() -> None:
    result = load_yaml("\ufeffa: 1\r\nb: 2\r\n")
    assert result.data == {"a": 1, "b": 2}
    assert result.source.range(result.source.keys[("b",)]) == Range.of(1, 0, 1, 1)


def test_empty_and_comment_only_texts_have_no_data() -> None:
    for text in ("", "   \n", "# nothing\n"):
        result = load_yaml(text)
        assert result.data is None and result.problems == []


def test_multiple_documents_are_a_syntax_error() -> None:
    result = load_yaml("a: 1\n---\nb: 2\n")
    assert result.fatal


def test_a_yaml_error_on_a_line_with_an_expression_hints_to_quote_it() -> None:
    text = "version: 1\nnodes:\n  - id: a\n    with:\n      value: ${{ json('{\"k\": 1}') }}\n"
    [problem] = load_yaml(text).problems
    assert problem.code == "yaml-syntax"
    assert "mapping values are not allowed" in problem.message
    assert "quote the whole value" in problem.message and "`>-`" in problem.message
    [plain] = load_yaml("a: b: c\n").problems
    assert "quote" not in plain.message
