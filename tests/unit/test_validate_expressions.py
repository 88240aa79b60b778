"""Expression rules, with ranges inside plain, quoted and block scalars."""

from __future__ import annotations

import pytest

from flowrun.validate.expressions import _simple_reference
from flowrun_engine.expr import parse, references
from unit.helpers import apply_fix, briefs, check, covered, only

HEAD = """
version: 1
inputs:
  style: {type: string, default: short}
secrets: [API_KEY]
nodes:
  - {id: fetch, type: transform, with: {value: 1}}
"""


def node(body: str) -> str:
    return HEAD + body


def test_syntax_error_points_at_the_bad_token() -> None:
    text = node("  - {id: a, type: transform, needs: [fetch], with: {value: '${{ 1 + * 2 }}'}}\n")
    d = only(text, "expression-syntax")
    assert d.message.startswith("invalid expression: ")
    assert covered(text, d) == "*"


def test_unclosed_expression_covers_it_to_the_end() -> None:
    text = node("  - id: a\n    type: transform\n    with: {value: 'x ${{ inputs.style'}\n")
    d = only(text, "expression-syntax")
    assert d.message == "expression `${{` is not closed; add `}}` after it"
    assert covered(text, d) == "${{ inputs.style"


def test_unknown_context_suggests_the_closest() -> None:
    text = node("  - id: a\n    type: transform\n    with:\n      value: ${{ input.style }}\n")
    d = only(text, "unknown-reference")
    assert d.message == "unknown context `input` in expression; did you mean `inputs`?"
    assert covered(text, d) == "input.style"
    assert "${{ inputs.style }}" in apply_fix(text, d)


def test_unknown_input_secret_and_trigger_field() -> None:
    text = node(
        "  - id: a\n    type: transform\n    with:\n"
        "      value: ${{ inputs.styl }} ${{ secrets.API_KY }} ${{ secrets.OTHER }}"
        " ${{ trigger.bdy }} ${{ inputs.zzzzzz }}\n"
    )
    found = [(covered(text, d), d.message) for d in check(text).diagnostics]
    assert found == [
        ("inputs.styl", "unknown input `styl`; did you mean `style`?"),
        ("secrets.API_KY", "secret `API_KY` is not declared; did you mean `API_KEY`?"),
        ("secrets.OTHER", "secret `OTHER` is not declared; add `OTHER` to `secrets:`"),
        (
            "trigger.bdy",
            "`trigger.bdy` does not exist; use `method`, `path`, `headers`, `query`, `body`, "
            "`params`",
        ),
        (
            "inputs.zzzzzz",
            "unknown input `zzzzzz`; expected one of `style`; declare it under `inputs:`",
        ),
    ]


def test_unknown_node_and_unknown_node_field() -> None:
    text = node(
        "  - id: a\n    type: transform\n    needs: [fetch]\n    with:\n"
        "      value: ${{ nodes.fetc.output }} ${{ nodes.fetch.result }}\n"
    )
    found = [(covered(text, d), d.message) for d in check(text).diagnostics]
    assert found == [
        ("nodes.fetc.output", "unknown node `fetc` in expression; did you mean `fetch`?"),
        (
            "nodes.fetch.result",
            "`nodes.fetch.result` does not exist; use `nodes.fetch.output` or `nodes.fetch.status`",
        ),
    ]


def test_not_upstream_with_fix_that_adds_a_needs_line() -> None:
    text = node(
        "  - id: report\n    type: transform\n    with: {value: '${{ nodes.fetch.output }}'}\n"
    )
    d = only(text, "not-upstream")
    assert d.message == "`nodes.fetch` is not upstream of `report`; add `fetch` to `needs`"
    assert covered(text, d) == "nodes.fetch.output"
    assert [(r.range.start.line, r.message) for r in d.related] == [(5, "`fetch` is defined here")]
    fixed = apply_fix(text, d)
    assert "  - id: report\n    needs: [fetch]\n    type: transform" in fixed
    assert check(fixed).diagnostics == []


def test_not_upstream_fix_extends_a_flow_list() -> None:
    text = node(
        "  - {id: b, type: transform, with: {value: 2}}\n"
        "  - id: c\n    type: transform\n    needs: [b]\n"
        "    with: {value: '${{ nodes.fetch.output }}'}\n"
    )
    fixed = apply_fix(text, only(text, "not-upstream"))
    assert "needs: [b, fetch]" in fixed and check(fixed).diagnostics == []
    empty = node(
        "  - id: c\n    type: transform\n    needs: []\n"
        "    with: {value: '${{ nodes.fetch.output }}'}\n"
    )
    assert "needs: [fetch]" in apply_fix(empty, only(empty, "not-upstream"))


def test_not_upstream_fix_extends_a_block_list_and_a_string() -> None:
    text = node(
        "  - {id: b, type: transform, with: {value: 2}}\n"
        "  - id: c\n    type: transform\n    needs:\n      - b\n"
        "    with: {value: '${{ nodes.fetch.output }}'}\n"
    )
    fixed = apply_fix(text, only(text, "not-upstream"))
    assert "    needs:\n      - b\n      - fetch\n" in fixed
    assert check(fixed).diagnostics == []
    single = text.replace("    needs:\n      - b\n", "    needs: b\n")
    fixed = apply_fix(single, only(single, "not-upstream"))
    assert "needs: [b, fetch]" in fixed and check(fixed).diagnostics == []


def test_transitive_needs_are_upstream_and_self_reference_is_not() -> None:
    text = node(
        "  - {id: b, type: transform, needs: [fetch], with: {value: 2}}\n"
        "  - {id: c, type: transform, needs: [b], with: {value: '${{ nodes.fetch.output }}'}}\n"
        "  - {id: d, type: transform, with: {value: '${{ nodes.d.output }}'}}\n"
    )
    d = only(text, "not-upstream")
    assert d.message == "node `d` cannot use its own output"


def test_stage_order_makes_earlier_stages_upstream() -> None:
    text = """
    version: 1
    stages:
      - id: one
        nodes:
          - {id: a, type: transform, with: {value: 1}}
          - {id: b, type: transform, with: {value: "${{ nodes.a.output }}"}}
      - id: two
        mode: parallel
        loop: {max_iters: 3, until: "${{ nodes.d.output and nodes.zz.output }}"}
        nodes:
          - {id: c, type: transform, with: {value: "${{ nodes.a.output }} ${{ loop.iteration }}"}}
          - {id: d, type: transform, with: {value: "${{ nodes.c.output }}"}}
      - id: three
        nodes:
          - {id: e, type: transform, with: {value: "${{ nodes.d.output }} ${{ loop.x }}"}}
    outputs:
      all: ${{ nodes.e.output }}
    """
    found = [(d.code, covered(text, d)) for d in check(text).diagnostics]
    assert found == [
        ("unknown-reference", "nodes.zz.output"),
        ("not-upstream", "nodes.c.output"),
        ("unknown-reference", "loop.x"),
    ]


def test_loop_references() -> None:
    text = """
    version: 1
    stages:
      - id: s
        loop: {max_iters: 2, until: "${{ loop.count > 1 and nodes.later.output }}"}
        nodes: [{id: a, type: transform, with: {value: "${{ loop.iteration }}"}}]
      - id: t
        nodes: [{id: later, type: transform, with: {value: 1}}]
    """
    found = [(d.code, covered(text, d), d.message) for d in check(text).diagnostics]
    assert found == [
        ("unknown-reference", "loop.count", "`loop.count` does not exist; use `loop.iteration`"),
        (
            "not-upstream",
            "nodes.later.output",
            "`nodes.later` runs after the loop of stage `s` is checked; "
            "use a node of this stage or an earlier one",
        ),
    ]


def test_expressions_in_double_quoted_scalars_with_escapes_before_them() -> None:
    text = node(
        "  - id: a\n    type: transform\n    with:\n"
        '      value: "tab\\there \\u00e9 ${{ inputs.nope }}"\n'
    )
    d = only(text, "unknown-reference")
    assert covered(text, d) == "inputs.nope"


def test_expressions_in_single_quoted_scalars_with_doubled_quotes() -> None:
    text = node(
        "  - id: a\n    type: transform\n    with:\n"
        "      value: 'it''s ${{ inputs.nope }} and ${{ 1 + }}'\n"
    )
    assert [(d.code, covered(text, d)) for d in check(text).diagnostics] == [
        ("unknown-reference", "inputs.nope"),
        ("expression-syntax", "+"),
    ]


def test_expressions_in_literal_and_folded_block_scalars() -> None:
    text = node(
        "  - id: a\n    type: shell\n    with:\n      run: |\n"
        "        echo one\n        echo ${{ inputs.nope }}\n"
        "  - id: b\n    type: transform\n    with:\n      value: >-\n"
        "        folded line\n        and ${{ secrets.NOPE }}\n"
    )
    found = [(d.code, d.range.start.line, covered(text, d)) for d in check(text).diagnostics]
    assert found == [
        ("unknown-reference", 11, "inputs.nope"),
        ("unknown-reference", 17, "secrets.NOPE"),
    ]


def test_expression_split_across_a_fold_falls_back_to_the_whole_scalar() -> None:
    text = node(
        "  - id: a\n    type: transform\n    with:\n      value: ${{ inputs.style\n"
        "        + inputs.nope }}\n"
    )
    d = only(text, "unknown-reference")
    assert (d.range.start.line, d.range.start.character) == (9, 13)
    assert (d.range.end.line, d.range.end.character) == (10, 24)


def test_non_bmp_characters_shift_utf16_columns() -> None:
    text = node("  - id: a\n    type: transform\n    with: {value: '😀😀 ${{ inputs.nope }}'}\n")
    assert briefs(text) == [("unknown-reference", (8, 28, 8, 39))]


def test_when_env_and_outputs_are_checked_but_pin_and_sample_are_not() -> None:
    text = """
    version: 1
    env: {A: "${{ nodes.x.output }}"}
    trigger: {sample: {body: "${{ nope }}"}}
    nodes:
      - id: a
        type: transform
        when: ${{ inputs.flag }}
        pin: "${{ nope }}"
    outputs:
      o: ${{ nodes.a.output }} ${{ nodes.b.output }}
    """
    found = [(d.code, covered(text, d)) for d in check(text).diagnostics]
    assert found == [
        ("unknown-reference", "nodes.x.output"),
        ("unknown-reference", "inputs.flag"),
        ("unknown-reference", "nodes.b.output"),
    ]


def test_valid_expressions_with_functions_and_indexes_pass() -> None:
    text = node(
        "  - id: a\n    type: transform\n    needs: fetch\n    with:\n"
        "      value:\n"
        "        a: \"${{ len(nodes.fetch.output) > 0 and default(inputs['style'], 'x') }}\"\n"
        "        b: ${{ env.HOME }} ${{ trigger }} ${{ nodes.fetch.status == 'succeeded' }}\n"
    )
    assert briefs(text) == []


@pytest.mark.parametrize(
    "text",
    [" nodes.fetch.output ", "inputs", "env.HOME", "loop.iteration", "foo.bar_1.Baz", "x"],
)
def test_the_fast_path_agrees_with_the_engine_parser(text: str) -> None:
    assert _simple_reference(text) == references(parse(text))


@pytest.mark.parametrize("text", ["true", "nodes.a-b.output", "a.b + 1", "not x", "a[0]", ""])
def test_the_fast_path_leaves_the_rest_to_the_parser(text: str) -> None:
    assert _simple_reference(text) is None


def test_plain_text_conditions_are_always_true() -> None:
    text = """
    version: 1
    stages:
      - id: s
        loop: {max_iters: 2, until: "nodes.a.output"}
        nodes:
          - id: a
            type: transform
            when: inputs.flag
            with: {value: 1}
    """
    found = check(text).diagnostics
    assert [(d.code, covered(text, d)) for d in found] == [
        ("expression-syntax", '"nodes.a.output"'),
        ("expression-syntax", "inputs.flag"),
    ]
    assert found[1].message == (
        "`when` of node `a` is plain text, which is always true; "
        "write the condition as an expression: `${{ inputs.flag }}`"
    )
    assert found[0].fix is None
    assert "when: ${{ inputs.flag }}" in apply_fix(text, found[1])


def test_an_empty_expression_is_reported_on_the_whole_expression() -> None:
    text = node("  - id: a\n    type: transform\n    with:\n      value: x ${{ }}\n")
    d = only(text, "expression-syntax")
    assert covered(text, d) == "${{ }}"


def test_not_upstream_fix_in_a_flow_mapping_node() -> None:
    text = node("  - {id: b, type: transform, with: {value: '${{ nodes.fetch.output }}'}}\n")
    fixed = apply_fix(text, only(text, "not-upstream"))
    assert "  - {id: b, needs: [fetch], type: transform," in fixed
    assert check(fixed).diagnostics == []


def test_status_functions_are_valid_in_when_only() -> None:
    text = """
    version: 1
    nodes:
      - {id: risky, type: shell, with: {run: "exit 1"}}
      - id: notify
        type: transform
        needs: [risky]
        when: ${{ failure() || always() }}
        with: {value: "${{ success() }}"}
    outputs:
      x: ${{ cancelled() }}
    """
    found = [(d.code, covered(text, d), d.message) for d in check(text).diagnostics]
    assert found[0][0] == "expression-syntax" and "use `or`" in found[0][2]
    fixed = text.replace("||", "or")
    found = [(d.code, covered(fixed, d), d.message) for d in check(fixed).diagnostics]
    assert found == [
        (
            "expression-syntax",
            "success()",
            "`success()` can only be used in a node's `when`, where it decides whether the "
            "node runs",
        ),
        (
            "expression-syntax",
            "cancelled()",
            "`cancelled()` can only be used in a node's `when`, where it decides whether the "
            "node runs",
        ),
    ]


def test_status_functions_take_no_arguments_and_unknown_ones_are_named() -> None:
    text = "version: 1\nnodes: [{id: a, type: transform, when: '${{ failure(1) }}', "
    text += "with: {value: 1}}]\n"
    assert only(text, "expression-syntax").message == (
        "invalid expression: failure() takes 0 arguments, 1 given"
    )
    text = text.replace("failure(1)", "failed()")
    message = only(text, "expression-syntax").message
    assert message.startswith("invalid expression: unknown function 'failed': the functions are")
    assert "failure, always, cancelled" in message


def test_when_always_suggests_the_status_function() -> None:
    text = "version: 1\nnodes: [{id: a, type: transform, when: always, with: {value: 1}}]\n"
    d = only(text, "expression-syntax")
    assert d.message.endswith("write the condition as an expression: `${{ always() }}`")
    assert "when: '${{ always() }}'" in apply_fix(text, d)
    assert check(apply_fix(text, d)).diagnostics == []


def test_top_level_env_cannot_read_nodes_or_loop() -> None:
    text = """
    version: 1
    inputs: {who: {default: x}}
    secrets: [TOKEN]
    env:
      OK: "${{ inputs.who }} ${{ secrets.TOKEN }} ${{ trigger.path }} ${{ env.HOME }}"
      BAD: ${{ nodes.a.output }}
    nodes:
      - {id: a, type: transform, with: {value: 1}}
    """
    d = only(text, "unknown-reference")
    assert covered(text, d) == "nodes.a.output"
    assert d.message.startswith("`nodes` is not available in the top-level `env:`")
