"""Schema rules: one test per problem, each with its exact range and message."""

from __future__ import annotations

from unit.helpers import VALID, apply_fix, briefs, check, covered, only


def test_the_valid_file_has_no_problem_and_a_model() -> None:
    result = check(VALID)
    assert result.diagnostics == [] and result.workflow is not None
    assert result.source is not None and not result.has_errors


def test_unknown_key_in_a_node_suggests_the_closest_key() -> None:
    text = """
    version: 1
    nodes:
      - id: fetch
        type: shell
        neeeds: [x]
        with: {run: ls}
    """
    d = only(text, "unknown-key")
    assert d.message == "unknown key `neeeds` in node `fetch`; did you mean `needs`?"
    assert covered(text, d) == "neeeds"
    assert d.fix is not None and d.fix.title == "Change to `needs`"
    assert "    needs: [x]" in apply_fix(text, d)


def test_unknown_key_without_a_close_match_lists_the_known_keys() -> None:
    d = only("version: 1\nzzz: 1\nnodes: [{id: a, type: shell, with: {run: ls}}]\n", "unknown-key")
    assert d.message.startswith("unknown key `zzz` in the top level; expected one of `version`")
    assert d.fix is None


def test_unknown_keys_in_nested_models() -> None:
    text = """
    version: 1
    trigger: {type: http, sample: {bodyy: 1}}
    defaults: {retry: {atempts: 2}}
    inputs:
      x: {typ: string}
    stages:
      - id: s
        loop: {max_iters: 2, untill: x}
        nodes:
          - {id: a, type: shell, with: {run: ls}, retry: {factr: 2}}
    """
    messages = [d.message for d in check(text).diagnostics]
    assert messages == [
        "unknown key `bodyy` in `trigger.sample`; did you mean `body`?",
        "unknown key `atempts` in `defaults.retry`; did you mean `attempts`?",
        "unknown key `typ` in input `x`; did you mean `type`?",
        "unknown key `untill` in `stages[0].loop`; did you mean `until`?",
        "unknown key `factr` in `stages[0].nodes[0].retry`; did you mean `factor`?",
    ]


def test_missing_version_and_missing_node_keys() -> None:
    text = """
    nodes:
      - id: a
        with: {run: ls}
      - type: shell
    """
    diagnostics = check(text).diagnostics
    assert [(d.code, d.message) for d in diagnostics] == [
        ("schema", "missing required key `version`; add `version: 1` at the top"),
        ("schema", "missing required key `type` in node `a`"),
        ("schema", "missing required key `id` in node 2"),
    ]
    assert covered(text, diagnostics[0]) == "nodes:"
    assert covered(text, diagnostics[1]) == "a"
    assert covered(text, diagnostics[2]) == "type: shell"


def test_wrong_types_name_the_key_and_what_is_expected() -> None:
    text = """
    version: 1
    name: [x]
    nodes:
      - id: a
        type: shell
        when: 5
        needs: 3
        with: [run]
    """
    messages = {covered(text, d): d.message for d in check(text).diagnostics}
    assert messages == {
        "[x]": "`name` must be text, not a list",
        "5": "`when` in node `a` must be text or `true`/`false`, not the number `5`",
        "3": "`needs` in node `a` must be a list, not the number `3`",
        "[run]": "`with` in node `a` must be a mapping (key: value), not a list",
    }


def test_quoted_version_is_fixed_by_removing_the_quotes() -> None:
    text = 'version: "1"\nnodes: [{id: a, type: shell, with: {run: ls}}]\n'
    d = only(text, "schema")
    assert d.message == "`version` must be the number 1, not the text `1`; remove the quotes"
    assert apply_fix(text, d).startswith("version: 1\n")


def test_top_level_extension_keys_hold_anchors() -> None:
    text = """
    version: 1
    x-shell: &shell {type: shell, with: {run: ls}}
    nodes:
      - {id: a, <<: *shell}
    """
    result = check(text)
    assert result.diagnostics == [] and result.workflow is not None


def test_unclosed_quote_points_at_the_end_and_relates_the_start() -> None:
    text = 'version: 1\nname: "abc\n'
    d = only(text, "yaml-syntax")
    assert d.message.startswith("YAML syntax error: found unexpected end of stream")
    assert [(r.range.start.line, r.range.start.character, r.message) for r in d.related] == [
        (1, 6, "while scanning a quoted scalar")
    ]


def test_missing_version_points_at_the_first_key_not_a_comment() -> None:
    text = "# a comment\nnodes: [{id: a, type: shell, with: {run: ls}}]\n"
    d = only(text, "schema")
    assert (d.range.start.line, d.range.start.character) == (1, 0)


def test_wrong_version_is_a_schema_error_on_the_value() -> None:
    text = "version: 2\nnodes: [{id: a, type: shell, with: {run: ls}}]\n"
    d = only(text, "schema")
    assert d.message == "`version` must be 1, not the number `2`"
    assert covered(text, d) == "2"


def test_unknown_node_type_suggests_and_fixes() -> None:
    text = """
    version: 1
    nodes:
      - id: a
        type: shel
        with: {run: ls}
    """
    d = only(text, "unknown-node-type")
    assert d.message == "unknown node type `shel` in node `a`; did you mean `shell`?"
    assert covered(text, d) == "shel"
    assert "type: shell\n" in apply_fix(text, d)


def test_unknown_node_type_without_suggestion_lists_the_types() -> None:
    text = "version: 1\nnodes: [{id: a, type: zzzz}]\n"
    d = only(text, "unknown-node-type")
    assert d.message.endswith("(types: `shell`, `python`, `http`, `llm`, `agent`, `transform`)")


def test_bad_choice_for_a_literal_field() -> None:
    text = "version: 1\nnodes: [{id: a, type: shell, on_failure: cont, with: {run: ls}}]\n"
    d = only(text, "schema")
    expected = "`on_failure` in node `a` must be `stop` or `continue`, not `cont`"
    assert d.message == expected + "; did you mean `continue`?"
    assert covered(text, d) == "cont"


def test_bad_durations_are_bad_duration_on_the_value() -> None:
    text = """
    version: 1
    defaults: {timeout: 5 sec}
    nodes:
      - id: a
        type: shell
        timeout: [1]
        retry: {backoff: -3}
        with: {run: ls}
    """
    found = check(text).diagnostics
    assert [(d.code, covered(text, d)) for d in found] == [
        ("bad-duration", "5 sec"),
        ("bad-duration", "[1]"),
        ("bad-duration", "-3"),
    ]
    assert found[0].message.startswith("`defaults.timeout`: invalid duration '5 sec': use")


def test_bounds_and_patterns() -> None:
    text = """
    version: 1
    id: Not Valid
    secrets: [bad-name]
    inputs:
      bad-input: {type: string}
    nodes:
      - id: 9a
        type: shell
        retry: {attempts: 0, factor: 0.5}
        with: {run: ls}
    """
    messages = [(covered(text, d), d.message) for d in check(text).diagnostics]
    assert messages == [
        (
            "Not Valid",
            "workflow id `Not Valid` is not valid: use lower-case letters, digits, `_` and `-` "
            "(at most 64), starting with a letter or digit",
        ),
        (
            "bad-name",
            "secret name `bad-name` is not valid: use letters, digits and `_`, "
            "starting with a letter or `_`",
        ),
        (
            "bad-input",
            "input name `bad-input` is not valid: use letters, digits and `_`, "
            "starting with a letter or `_`",
        ),
        (
            "9a",
            "node id `9a` is not valid: use letters, digits, `_` and `-`, "
            "starting with a letter or `_`",
        ),
        ("0", "`retry.attempts` in node `9a` must be at least 1, not the number `0`"),
        ("0.5", "`retry.factor` in node `9a` must be at least 1, not the number `0.5`"),
    ]


def test_stage_problems() -> None:
    text = """
    version: 1
    trigger: {method: "GET /", path: nope}
    stages:
      - id: s
        mode: paralel
        nodes: []
    """
    found = [(d.code, covered(text, d), d.message) for d in check(text).diagnostics]
    assert found == [
        (
            "schema",
            '"GET /"',
            "`trigger.method` `GET /` is not valid: use an HTTP method such as GET or POST",
        ),
        ("schema", "nope", "`trigger.path` `nope` is not valid: use a path starting with `/`"),
        (
            "schema",
            "paralel",
            "`mode` in stage `s` must be `sequential` or `parallel`, not `paralel`; "
            "did you mean `parallel`?",
        ),
        ("schema", "[]", "`nodes` in stage `s` is empty; add at least one item"),
    ]


def test_loop_bounds() -> None:
    text = """
    version: 1
    stages:
      - id: a
        loop: {until: "${{ true }}"}
        nodes: [{id: x, type: transform, with: {value: 1}}]
      - id: b
        loop: {max_iters: 101}
        nodes: [{id: y, type: transform, with: {value: 1}}]
      - id: c
        loop: {max_iters: three}
        nodes: [{id: z, type: transform, with: {value: 1}}]
    """
    found = [(d.code, covered(text, d), d.message) for d in check(text).diagnostics]
    assert found == [
        (
            "loop-bounds",
            "loop",
            "the loop of stage `a` has no `max_iters`; add `max_iters: 3` (1 to 100)",
        ),
        (
            "loop-bounds",
            "101",
            "`loop.max_iters` in stage `b` must be at most 100, not the number `101`",
        ),
        (
            "loop-bounds",
            "three",
            "`loop.max_iters` in stage `c` must be a whole number, not `three`",
        ),
    ]


def test_nodes_and_stages_together_or_neither() -> None:
    both = """
    version: 1
    nodes: [{id: a, type: shell, with: {run: ls}}]
    stages: [{id: s, nodes: [{id: b, type: shell, with: {run: ls}}]}]
    """
    d = only(both, "schema")
    assert d.message.startswith("a workflow has `nodes` or `stages`, not both")
    assert covered(both, d) == "stages"
    neither = "version: 1\nname: x\n"
    d = only(neither, "schema")
    assert d.message.startswith("a workflow needs `nodes:`")
    assert covered(neither, d) == "version: 1"
    empty = "version: 1\nnodes:\n"
    d = only(empty, "schema")
    assert d.message == "`nodes` is empty; add at least one node"
    empty_list = "version: 1\nnodes: []\n"
    assert only(empty_list, "schema").message == "`nodes` is empty; add at least one item"


def test_top_level_must_be_a_mapping() -> None:
    d = only("- a\n- b\n", "schema")
    assert d.message == "a workflow is a mapping (key: value) at the top level, not a list"
    assert briefs("- a\n") == [("schema", (0, 0, 0, 1))]
    d = only("just text\n", "schema")
    assert d.message.endswith("not a single value")


def test_empty_file() -> None:
    d = only("", "schema")
    assert d.message.startswith("the file is empty")
    assert briefs("") == [("schema", (0, 0, 0, 0))]


def test_duplicate_key_has_related_information() -> None:
    text = "version: 1\nversion: 1\nnodes: [{id: a, type: shell, with: {run: ls}}]\n"
    d = only(text, "duplicate-key")
    assert briefs(text) == [("duplicate-key", (1, 0, 1, 7))]
    assert d.related[0].range.start.line == 0 and d.related[0].message == "first `version` here"


def test_yaml_syntax_errors_stop_the_other_rules() -> None:
    assert briefs("version: 1\nnodes: [\n") == [("yaml-syntax", (2, 0, 2, 0))]


def test_env_values_and_headers_may_be_scalars_but_not_lists() -> None:
    text = (
        "version: 1\nenv: {A: 1, B: true, C: [1]}\nnodes: [{id: a, type: shell, with: {run: ls}}]\n"
    )
    d = only(text, "schema")
    assert d.message == "`env.C` must be text, a number or `true`/`false`, not a list"


def test_an_invalid_needs_item_is_only_an_unknown_needs() -> None:
    text = "version: 1\nnodes: [{id: a, type: shell, needs: ['b c'], with: {run: ls}}]\n"
    assert only(text, "unknown-needs").message.startswith("node `a` needs `b c`")


def test_values_are_shown_by_kind() -> None:
    text = "version: 1\nname: true\ndescription: {a: 1}\n"
    text += "nodes: [{id: a, type: shell, with: {run: ls}}]\n"
    assert [d.message for d in check(text).diagnostics] == [
        "`name` must be text, not `true`",
        "`description` must be text, not a mapping",
    ]


def test_input_defaults_must_have_the_input_type() -> None:
    text = """
    version: 1
    inputs:
      count: {type: number, default: many}
      flag: {type: boolean, default: null}
    nodes: [{id: a, type: shell, with: {run: ls}}]
    """
    d = only(text, "schema")
    assert d.message == (
        "the default of input `count` must be a number (its type is `number`), not `many`"
    )
    assert covered(text, d) == "many"


def test_an_empty_node_type_asks_for_one() -> None:
    text = "version: 1\nnodes:\n  - id: a\n    type:\n"
    d = only(text, "schema")
    assert d.message == (
        "node `a` needs a `type`: one of `shell`, `python`, `http`, `llm`, `agent`, `transform`"
    )
    assert covered(text, d) == "type"


def test_a_fractional_whole_number_says_so_without_contradiction() -> None:
    assert (
        check(
            "version: 1\nnodes: [{id: a, type: shell, retry: {attempts: 2.0}, with: {run: ls}}]\n"
        ).diagnostics
        == []
    )
    d = only(
        "version: 1\nnodes: [{id: a, type: shell, retry: {attempts: 2.5}, with: {run: ls}}]\n",
        "schema",
    )
    assert d.message == "`retry.attempts` in node `a` must be a whole number, not the number `2.5`"


def test_yaml_1_1_words_are_text_for_the_validator_as_for_editors() -> None:
    text = """
    version: 1
    env: {FLAG: yes, COUNTRY: NO}
    nodes:
      - {id: a, type: shell, timeout: 1:30, with: {run: ls}}
    """
    result = check(text)
    assert [d.code for d in result.diagnostics] == ["bad-duration"]
    assert check(text.replace("1:30", "90")).workflow.env == {"FLAG": "yes", "COUNTRY": "NO"}  # type: ignore[union-attr]
