"""Diagnostics of the `tests:` section: each on the exact token, with its quick fix."""

from __future__ import annotations

import pytest

from unit.helpers import apply_fix, briefs, check, covered, only

HEAD = """
version: 1
inputs:
  style: {type: string, default: short}
  count: {type: number, default: 1}
nodes:
  - id: clean
    type: transform
    with: {value: x}
  - id: summarize
    type: transform
    needs: [clean]
    with: {value: y}
outputs:
  summary: ${{ nodes.summarize.output }}
tests:
"""


def with_tests(entries: str) -> str:
    return HEAD + entries


def one_test(body: str) -> str:
    """A file with one test, `t`, of this body (its lines at the test's indentation)."""
    return HEAD + "  - name: t\n" + body


def test_a_valid_tests_section_has_no_diagnostics() -> None:
    text = with_tests("""\
  - name: works
    inputs: {style: long, count: 2}
    trigger: {body: {text: hi}}
    mock:
      summarize: {content: "x"}
      clean: {error: {type: ProviderError, message: boom}}
    expect:
      status: failed
      outputs:
        summary: {contains: x}
      error: {type: ProviderError, message: {matches: "^b"}}
      nodes:
        clean: {status: failed, error: {type: ProviderError}}
        summarize: {output: {content: {len: 1}}}
""")
    assert check(text).diagnostics == []
    assert check(text).workflow is not None
    assert check(text).workflow.tests[0].name == "works"  # type: ignore[union-attr]


def test_duplicate_test_name_is_on_the_second_name_with_related_first() -> None:
    text = with_tests("""\
  - name: same
  - name: same
""")
    d = only(text, "duplicate-test")
    assert covered(text, d) == "same" and d.range.start.line == 16
    assert d.related[0].range.start.line == 15


def test_a_mock_of_an_unknown_node_is_on_its_key_and_fixed() -> None:
    text = one_test("""\
    mock:
      sumarize: {content: x}
""")
    d = only(text, "test-unknown-node")
    assert covered(text, d) == "sumarize"
    assert "did you mean `summarize`?" in d.message
    assert "      summarize: {content: x}" in apply_fix(text, d)


def test_an_expectation_on_an_unknown_node_and_output() -> None:
    text = one_test("""\
    expect:
      outputs: {summry: x}
      nodes: {claen: {status: succeeded}}
""")
    found = briefs(text)
    assert found == [
        ("test-unknown-output", (17, 16, 17, 22)),
        ("test-unknown-node", (18, 14, 18, 19)),
    ]
    d = check(text).diagnostics[0]
    assert "outputs: {summary: x}" in apply_fix(text, d)


def test_inputs_of_the_wrong_type_and_unknown_inputs() -> None:
    text = one_test("""\
    inputs: {count: many, styel: long}
""")
    diagnostics = check(text).diagnostics
    assert [(d.code, covered(text, d)) for d in diagnostics] == [
        ("test-input", "many"),
        ("test-input", "styel"),
    ]
    assert diagnostics[0].message == "input `count` must be a number"
    assert "inputs: {count: many, style: long}" in apply_fix(text, diagnostics[1])


def summary_expected(value: str) -> str:
    return one_test(f"    expect:\n      outputs:\n        summary: {value}\n")


@pytest.mark.parametrize(
    ("written", "token", "fixed"),
    [
        ("{contain: x}", "contain", "{contains: x}"),
        ("{type: strng}", "strng", "{type: string}"),
    ],
)
def test_a_misspelt_matcher_is_on_its_token_and_fixed(written: str, token: str, fixed: str) -> None:
    text = summary_expected(written)
    d = only(text, "unknown-matcher")
    assert covered(text, d) == token
    assert f"summary: {fixed}" in apply_fix(text, d)


def test_a_plain_key_near_a_matcher_name_is_not_a_matcher() -> None:
    assert check(summary_expected("{content: x}")).diagnostics == []


def test_bad_matcher_arguments() -> None:
    text = one_test("""\
    expect:
      outputs:
        summary: {matches: "(x"}
      nodes:
        clean: {output: {len: -1}}
        summarize: {output: {absent: maybe}}
""")
    found = [(d.code, covered(text, d)) for d in check(text).diagnostics]
    assert found == [
        ("bad-matcher", '"(x"'),
        ("bad-matcher", "-1"),
        ("bad-matcher", "maybe"),
    ]


def test_the_shape_of_a_test_is_checked_by_the_schema() -> None:
    text = one_test("""\
    expct: {status: succeeded}
  - name: u
    expect: {status: done}
""")
    found = [(d.code, covered(text, d)) for d in check(text).diagnostics]
    assert found[0] == ("unknown-key", "expct")
    assert "did you mean `expect`?" in check(text).diagnostics[0].message
    assert found[1][0] == "schema" and found[1][1] == "done"
