"""The expression language: parsing, errors with exact offsets, references, evaluation, render."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowrun_engine.expr import (
    FUNCTIONS,
    Attr,
    Binary,
    Call,
    Const,
    Expr,
    ExprEvalError,
    ExprSyntaxError,
    Index,
    ListExpr,
    Name,
    Reference,
    TemplateExpression,
    Unary,
    evaluate,
    find_expressions,
    parse,
    references,
    render,
    to_text,
    type_name,
    unparse,
)

CTX: dict[str, Any] = {
    "inputs": {"style": "short", "n": 3, "flag": False, "empty": "", "zero": 0, "none": None},
    "trigger": {"body": {"text": "hi", "items": [1, 2, 3]}, "headers": {"x-id": "7"}},
    "nodes": {
        "fetch-data": {"output": {"count": 7, "count-1": 99, "list": ["a", "b"]}},
        "clean": {"output": "text", "status": "succeeded"},
    },
    "env": {"HOME": "/home/u"},
    "secrets": {"KEY": "s3cret"},
    "loop": {"iteration": 2},
}


def ev(text: str, ctx: dict[str, Any] | None = None) -> Any:
    return evaluate(parse(text), CTX if ctx is None else ctx)


# --- parsing and precedence ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("not a and b or c", "(((not a) and b) or c)"),
        ("a or b and not c", "(a or (b and (not c)))"),
        ("not a == b", "(not (a == b))"),
        ("-a.b * 2", "((- a.b) * 2)"),
        ("a['b-c'][0].d", 'a["b-c"][0].d'),
        ("x in [1, 'two', null]", '(x in [1, "two", null])'),
        ("x not in y", "(x not in y)"),
        ("default(inputs.x, 'y')", 'default(inputs.x, "y")'),
        ("nodes.fetch-data.output", "nodes.fetch-data.output"),
        ("a.b-1", "(a.b - 1)"),
        ("a.b - c", "(a.b - c)"),
        ("a.and.or", "a.and.or"),
        ("-3", "(-3)"),
        ("1.5e3 + 2E-1", "(1500.0 + 0.2)"),
        ("[]", "[]"),
        ("len([1, 2,])", "len([1, 2])"),
    ],
)
def test_parse_precedence(text: str, expected: str) -> None:
    assert unparse(parse(text)) == expected


def test_ast_shape_and_offsets() -> None:
    expr = parse("  nodes.a['b'][i] ")
    assert expr == Index(Index(Attr(Name("nodes"), "a"), Const("b")), Name("i"))
    assert isinstance(expr, Index)
    assert (expr.start, expr.end) == (2, 17)
    call = parse("contains(a, 'x')")
    assert call == Call("contains", (Name("a"), Const("x")))
    assert parse("not -x") == Unary("not", Unary("-", Name("x")))
    assert parse("[1, x]") == ListExpr((Const(1), Name("x")))
    assert parse("a != b") == Binary("!=", Name("a"), Name("b"))


def test_string_escapes() -> None:
    assert ev(r"'it\'s'") == "it's"
    assert ev(r'"a\"b\n\t\\"') == 'a"b\n\t\\'
    assert ev(r"'C:\dir'") == "C:\\dir"
    assert ev("'}}'") == "}}"


@pytest.mark.parametrize(
    ("text", "message", "offset", "length"),
    [
        ("", "empty expression", 0, 0),
        ("   ", "empty expression", 0, 3),
        ("1 +", "expected a value, but the expression ends", 2, 1),
        ("a +* b", "expected a value, found '*'", 3, 1),
        ("(1 + 2", "'(' is never closed: add ')'", 0, 1),
        ("a[0", "'[' is never closed: add ']'", 1, 1),
        ("len(a", "'(' is never closed", 3, 1),
        ("(1 2)", "expected ')', found '2'", 3, 1),
        ("foo(1)", "unknown function 'foo'", 0, 3),
        ("len(1, 2)", "len() takes 1 argument, 2 given", 0, 9),
        ("default(1)", "default() takes 2 arguments, 1 given", 0, 10),
        ("x == 'abc", "unterminated string: add the closing '", 5, 4),
        ("a && b", "unknown operator '&&': use `and`", 2, 2),
        ("a || b", "use `or`", 2, 2),
        ("!a", "use `not`", 0, 1),
        ("a = 1", "use `==`", 2, 1),
        ("1 < x < 3", "comparisons cannot be chained", 6, 1),
        ("a in b in c", "comparisons cannot be chained", 7, 2),
        ("a == b not in c", "comparisons cannot be chained", 7, 3),
        ("a == b '=='", "expected an operator or the end of the expression, found", 7, 4),
        ("'.'and", "expected a value, but the expression ends", 3, 3),
        ("a.", "expected a name after '.'", 1, 1),
        ("a.1", "expected a name after '.', found '1'", 2, 1),
        ("a b", "expected an operator or the end of the expression, found 'b'", 2, 1),
        ("inputs.x # c", "unexpected character '#'", 9, 1),
        ("12abc", "invalid number '12a'", 0, 3),
        ("1e+", "invalid number '1e'", 0, 2),
        ("and", "expected a value, found 'and'", 0, 3),
    ],
)
def test_syntax_errors_point_at_the_token(
    text: str, message: str, offset: int, length: int
) -> None:
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    assert message in info.value.message
    assert (info.value.offset, info.value.length) == (offset, length)
    assert str(info.value) == info.value.message


def test_nesting_is_bounded() -> None:
    with pytest.raises(ExprSyntaxError, match="nested deeper"):
        parse("(" * 70 + "1" + ")" * 70)
    with pytest.raises(ExprSyntaxError, match="nested deeper"):
        parse("-" * 70 + "1")

    assert ev("(" * 20 + "1" + ")" * 20) == 1


def test_length_is_bounded_and_long_chains_evaluate() -> None:
    text = " + ".join(["1"] * 151)
    with pytest.raises(ExprSyntaxError, match="expression too long") as info:
        parse(text)
    assert (info.value.offset, info.value.length) == (600, 1)
    assert ev(" + ".join(["1"] * 150)) == 150
    assert ev("(" * 20 + " - ".join(["1"] * 100) + ")" * 20) == -98
    assert len(references(parse(".".join(["a"] * 150)))[0].path) == 149


# --- find_expressions ---------------------------------------------------------------------


def test_find_expressions_several_and_positions() -> None:
    s = "a ${{ x }} b ${{y}}"
    found = find_expressions(s)
    assert found == [
        TemplateExpression(2, 10, " x ", 5, True),
        TemplateExpression(13, 19, "y", 16, True),
    ]
    for t in found:
        assert s[t.text_start : t.text_start + len(t.text)] == t.text
        assert s[t.start : t.end].startswith("${{")


def test_find_expressions_braces_inside_strings() -> None:
    s = "${{ '}}' + \"}}\" }} tail"
    [t] = find_expressions(s)
    assert t.text == " '}}' + \"}}\" "
    assert s[t.end :] == " tail"


def test_find_expressions_unclosed() -> None:
    assert find_expressions("x ${{ a.b") == [TemplateExpression(2, 9, " a.b", 5, False)]
    assert find_expressions("${{ a }} ${{") == [
        TemplateExpression(0, 8, " a ", 3, True),
        TemplateExpression(9, 12, "", 12, False),
    ]


def test_find_expressions_unterminated_string_falls_back_to_first_close() -> None:
    [t] = find_expressions("${{ 'abc }} rest")
    assert t.closed and t.text == " 'abc "
    with pytest.raises(ExprSyntaxError, match="unterminated"):
        parse(t.text)


def test_find_expressions_none() -> None:
    assert find_expressions("plain $ {{ text }}") == []


# --- references ---------------------------------------------------------------------------


def test_references_literal_paths_and_offsets() -> None:
    text = "nodes.fetch.output['a-b'][0] + inputs.n"
    refs = references(parse(text))
    assert refs == [
        Reference("nodes", ("fetch", "output", "a-b", 0), 0, 28),
        Reference("inputs", ("n",), 31, 39),
    ]
    assert text[refs[1].start : refs[1].end] == "inputs.n"


def test_references_stop_at_non_literal_index() -> None:
    text = "nodes[inputs.which].output"
    refs = references(parse(text))
    assert refs == [Reference("nodes", (), 0, 5), Reference("inputs", ("which",), 6, 18)]


def test_references_inside_calls_lists_and_operators() -> None:
    refs = references(parse("len([env.A, not secrets.B]) > -loop.iteration and unknown"))
    assert [(r.context, r.path) for r in refs] == [
        ("env", ("A",)),
        ("secrets", ("B",)),
        ("loop", ("iteration",)),
        ("unknown", ()),
    ]
    assert references(parse("json('[1]')[0]")) == []
    assert references(parse("a[true]")) == [Reference("a", (), 0, 1)]


# --- evaluation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("inputs.style", "short"),
        ("nodes.fetch-data.output.count", 7),
        ("nodes['fetch-data'].output['count-1']", 99),
        ("nodes.fetch-data.output.count-1", 6),
        ("nodes.fetch-data.output.list[1]", "b"),
        ("nodes.fetch-data.output.list[-1]", "a" if False else "b"),
        ("nodes.fetch-data.output.list[5]", None),
        ("trigger.body.items[0] + trigger.body.items[2]", 4),
        ("trigger.headers.x-id", "7"),
        ("inputs.missing.deeper[0]", None),
        ("nope.x", None),
        ("inputs.style[0]", "s"),
        ("inputs.n[0]", None),
        ("trigger.body['items']['x']", None),
        ("inputs[0]", None),
        ("1 + 2 * 3 - 4 / 2", 5.0),
        ("7 % 3", 1),
        ("'a' + 'b'", "ab"),
        ("[1] + [2, 3]", [1, 2, 3]),
        ("-inputs.n", -3),
        ("not inputs.flag", True),
        ("not inputs.style", False),
        ("true and false or true", True),
        ("not true and false", False),
        ("not (true and false)", True),
        ("inputs.none or 'fallback'", "fallback"),
        ("inputs.style and inputs.n", 3),
        ("inputs.flag and inputs.missing.x", False),
        ("1 == 1.0", True),
        ("1 == true", False),
        ("0 == false", False),
        ("null == inputs.missing", True),
        ("[1, true] == [1, true]", True),
        ("[1, true] == [1, 1]", False),
        ("[1] == [1, 2]", False),
        ("'a' != 'b'", True),
        ("2 < 3", True),
        ("3 <= 3", True),
        ("'b' > 'a'", True),
        ("2 >= 3", False),
        ("'ort' in inputs.style", True),
        ("2 in trigger.body.items", True),
        ("true in [1]", False),
        ("'text' in trigger.body", True),
        ("1 in trigger.body", False),
        ("'x' in inputs.missing", False),
        ("'x' not in [1]", True),
        ("len(inputs.style)", 5),
        ("len(trigger.body.items)", 3),
        ("len(trigger.body)", 2),
        ("contains(inputs.style, 'ho')", True),
        ("contains('v12', 12)", True),
        ("contains(trigger.body.items, 9)", False),
        ("contains(inputs.missing, 1)", False),
        ("default(inputs.missing, 'x')", "x"),
        ("default(inputs.none, 1)", 1),
        ("default(inputs.empty, 'x')", ""),
        ("default(inputs.zero, 1)", 0),
        ("default(inputs.flag, true)", False),
        ("json('{\"a\": [1, null]}').a", [1, None]),
        ("to_json(trigger.body.items)", "[1, 2, 3]"),
        ("to_json('x')", '"x"'),
        ("to_json(null)", "null"),
        ("loop.iteration", 2),
        ("[inputs.n, 'x']", [3, "x"]),
    ],
)
def test_evaluate(text: str, expected: Any) -> None:
    result = ev(text)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("'a' - 1", "cannot apply '-' to a string and a number: it needs two numbers"),
        ("'a' + 1", "'+' joins two strings or two lists; use to_json()"),
        ("[1] + 'a'", "cannot apply '+' to a list and a string"),
        ("true * 2", "cannot apply '*' to a boolean and a number"),
        ("1 / 0", "division by zero in '/'"),
        ("1 % 0", "division by zero in '%'"),
        ("-'a'", "cannot negate a string"),
        ("null < 1", "cannot compare a null with a number using '<'"),
        ("'a' >= 1", "cannot compare a string with a number"),
        ("[1] > [0]", "cannot compare a list with a list"),
        ("1 in 'abc'", "needs a string on the left, got a number"),
        ("1 in 5", "'in' needs a string, list or object on the right, got a number"),
        ("contains(5, 1)", "'contains' needs a string, list or object"),
        ("len(null)", "len() needs a string, list or object, got a null"),
        ("len(1)", "got a number"),
        ("json('nope')", "json() got text that is not valid JSON"),
        ("json(1)", "json() needs a string of JSON text, got a number"),
        ("1e308 * 10 + " + "9" * 400, "number too large"),
    ],
)
def test_evaluate_errors(text: str, message: str) -> None:
    with pytest.raises(ExprEvalError) as info:
        ev(text)
    assert message in info.value.message


def test_type_names() -> None:
    assert [type_name(v) for v in (None, True, 1, 1.5, "s", [1], (1,), {"a": 1})] == [
        "null",
        "boolean",
        "number",
        "number",
        "string",
        "list",
        "list",
        "object",
    ]
    assert type_name(b"x") == "bytes"


# --- render -------------------------------------------------------------------------------


def test_render_exact_expression_keeps_type() -> None:
    assert render("${{ trigger.body.items }}", CTX) == [1, 2, 3]
    assert render("${{inputs.flag}}", CTX) is False
    assert render("${{ inputs.missing }}", CTX) is None


def test_render_interpolates_text_as_json() -> None:
    ctx = {"v": {"t": True, "n": None, "l": [1, 2], "o": {"a": 1}, "s": "x", "f": 1.5}}
    out = render("${{v.t}} ${{v.n}} ${{v.l}} ${{v.o}} ${{v.s}} ${{v.f}}", ctx)
    assert out == 'true null [1, 2] {"a": 1} x 1.5'


def test_render_surrounding_whitespace_makes_text() -> None:
    assert render(" ${{ inputs.n }}", CTX) == " 3"
    assert render("${{ inputs.n }}\n", CTX) == "3\n"
    assert render("${{ inputs.n }}${{ inputs.n }}", CTX) == "33"


def test_render_walks_structures() -> None:
    value = {"a": ["${{ inputs.n }}", {"b": "n=${{ inputs.n }}"}], "c": 5, "d": None, "e": ("x",)}
    assert render(value, CTX) == {"a": [3, {"b": "n=3"}], "c": 5, "d": None, "e": ["x"]}
    assert render("no expressions", CTX) == "no expressions"


def test_render_errors_name_the_expression() -> None:
    with pytest.raises(
        ExprEvalError, match=r"cannot apply '-'.*\(in \$\{\{ inputs.style - 1 \}\}\)"
    ):
        render("x ${{ inputs.style - 1 }}", CTX)
    with pytest.raises(ExprSyntaxError, match="never closed"):
        render("x ${{ inputs.n", CTX)
    with pytest.raises(ExprSyntaxError, match="expected a value"):
        render("${{ 1 + }}", CTX)


def test_to_text() -> None:
    assert to_text("s") == "s"
    assert to_text(None) == "null"
    assert to_text({"a": [1, "é"]}) == '{"a": [1, "\\u00e9"]}'
    assert to_text(object()).startswith('"<object')


# --- property tests -----------------------------------------------------------------------

_names = st.from_regex(r"[a-z_][a-z0-9_]{0,5}", fullmatch=True).filter(
    lambda s: s not in {"and", "or", "not", "in", "true", "false", "null"}
)
_attr_names = st.from_regex(r"[a-z_][a-z0-9_]{0,3}(-[a-z][a-z0-9]{0,3})?", fullmatch=True)
_consts = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
).map(Const)


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    ops = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or"]
    return st.one_of(
        st.builds(Attr, children, _attr_names),
        st.builds(Index, children, children),
        st.builds(Binary, st.sampled_from(ops), children, children),
        st.builds(Unary, st.just("not"), children),
        st.builds(Unary, st.just("-"), children.filter(lambda e: not isinstance(e, Const))),
        st.builds(ListExpr, st.lists(children, max_size=3).map(tuple)),
        st.sampled_from(sorted(FUNCTIONS)).flatmap(
            lambda f: st.tuples(*[children] * FUNCTIONS[f]).map(lambda args: Call(f, args))
        ),
    )


_exprs = st.recursive(st.one_of(_consts, _names.map(Name)), _extend, max_leaves=12)
_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(_names, inner, max_size=3)
    ),
    max_leaves=8,
)


@given(_exprs)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_unparse_round_trips(expr: Expr) -> None:
    assert parse(unparse(expr)) == expr


@given(
    st.one_of(
        st.text(alphabet="ab1.'\"[](){}$ -+*/%<=>!&|,notandinulx\\", max_size=30),
        st.text(max_size=20),
    )
)
@settings(max_examples=500)
def test_parse_raises_only_syntax_errors(text: str) -> None:
    try:
        expr = parse(text)
    except ExprSyntaxError as exc:
        assert 0 <= exc.offset <= len(text)
        assert exc.offset + exc.length <= len(text)
        return
    for ref in references(expr):
        assert text[ref.start : ref.end].startswith(ref.context)


@given(_exprs, st.dictionaries(_names, _values, max_size=4))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_evaluate_raises_only_eval_errors(expr: Expr, ctx: dict[str, Any]) -> None:
    try:
        result = evaluate(expr, ctx)
    except ExprEvalError as exc:
        assert exc.message
        return
    to_text(result)


@given(st.text(max_size=40))
def test_find_expressions_positions_are_consistent(s: str) -> None:
    previous_end = 0
    for t in find_expressions(s):
        assert s.startswith("${{", t.start)
        assert t.start >= previous_end
        assert s[t.text_start : t.text_start + len(t.text)] == t.text
        assert t.end == (t.text_start + len(t.text) + 2 if t.closed else len(s))
        previous_end = t.end


_fragments = st.sampled_from(
    ["${{", "}}", " ", "a", "inputs.n", "'", '"', "+", "1", "[0]", "text", "(", ")", "len(", ","]
)


@given(st.lists(_fragments, max_size=12).map("".join))
@settings(max_examples=300)
def test_render_raises_only_expression_errors(s: str) -> None:
    try:
        result = render(s, CTX)
    except (ExprSyntaxError, ExprEvalError):
        return
    if not find_expressions(s):
        assert result == s


def test_eval_errors_never_show_values() -> None:
    for text in ("-secrets.KEY", "secrets.KEY - 1", "secrets.KEY < 1", "len(1) + secrets.KEY"):
        with pytest.raises(ExprEvalError) as info:
            ev(text)
        assert "s3cret" not in info.value.message
