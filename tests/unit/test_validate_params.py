"""`with` rules: missing and unknown parameters, providers, choices."""

from __future__ import annotations

from unit.helpers import apply_fix, check, covered, only


def test_missing_parameter_points_at_with() -> None:
    text = "version: 1\nnodes:\n  - id: a\n    type: python\n    with: {args: {}}\n"
    d = only(text, "missing-parameter")
    assert d.message == "python node `a` needs the parameter `code` or `function` under `with`"
    assert covered(text, d) == "with"


def test_missing_with_points_at_the_type() -> None:
    text = "version: 1\nnodes:\n  - id: a\n    type: llm\n"
    messages = [(covered(text, d), d.message) for d in check(text).diagnostics]
    assert messages == [
        ("llm", "llm node `a` needs the parameter `provider` under `with`"),
        ("llm", "llm node `a` needs the parameter `model` under `with`"),
        ("llm", "llm node `a` needs the parameter `prompt` or `messages` under `with`"),
    ]


def test_empty_with_and_pinned_nodes() -> None:
    text = "version: 1\nnodes:\n  - {id: a, type: shell, with: }\n  - {id: b, type: http, pin: 1}\n"
    d = only(text, "missing-parameter")
    assert d.message == "shell node `a` needs the parameter `run` under `with`"


def test_unknown_parameter_suggests_and_fixes() -> None:
    text = "version: 1\nnodes:\n  - id: a\n    type: shell\n    with: {run: ls, pars: json}\n"
    d = only(text, "unknown-key")
    assert d.message == "unknown parameter `pars` for shell node `a`; did you mean `parse`?"
    assert covered(text, d) == "pars"
    assert "with: {run: ls, parse: json}" in apply_fix(text, d)
    far = "version: 1\nnodes: [{id: a, type: transform, with: {value: 1, zzz: 2}}]\n"
    assert only(far, "unknown-key").message.endswith("; expected one of `value`")


def test_unknown_provider_suggests_and_lists_the_providers() -> None:
    text = (
        "version: 1\nnodes:\n  - id: a\n    type: llm\n"
        "    with: {provider: grok, model: m, prompt: p}\n"
    )
    d = only(text, "unknown-provider")
    assert d.message == (
        "unknown llm provider `grok` in node `a`; did you mean `groq`? "
        "(providers: `openai`, `groq`, `anthropic`, `ollama`, `openai-compatible`)"
    )
    assert covered(text, d) == "grok"
    agent = "version: 1\nnodes: [{id: a, type: agent, with: {provider: claude, prompt: p}}]\n"
    assert "did you mean `claude-code`?" in only(agent, "unknown-provider").message


def test_provider_from_an_expression_is_not_checked() -> None:
    text = (
        "version: 1\ninputs: {p: {default: groq}}\n"
        "nodes: [{id: a, type: llm, with: {provider: '${{ inputs.p }}', model: m, prompt: p}}]\n"
    )
    assert check(text).diagnostics == []


def test_bad_choice_of_a_parameter() -> None:
    text = "version: 1\nnodes: [{id: a, type: shell, with: {run: ls, parse: jsn}}]\n"
    d = only(text, "schema")
    assert d.message == (
        "`with.parse` of node `a` must be one of `text`, `json`, `lines`; did you mean `json`?"
    )
    far = "version: 1\nnodes: [{id: a, type: shell, with: {run: ls, parse: zzzz}}]\n"
    assert only(far, "schema").fix is None


def test_nodes_of_unknown_type_or_bad_with_are_left_to_the_schema_rules() -> None:
    text = "version: 1\nnodes: [{id: a, type: nope, with: {x: 1}}, {id: b, type: shell, with: 5}]\n"
    assert [d.code for d in check(text).diagnostics] == ["unknown-node-type", "schema"]


def test_an_empty_parameter_is_missing() -> None:
    text = "version: 1\nnodes:\n  - id: a\n    type: shell\n    with:\n      run:\n"
    assert only(text, "missing-parameter").message.startswith("shell node `a` needs")


def test_code_and_function_together_contradict_each_other() -> None:
    text = """
    version: 1
    nodes:
      - id: calc
        type: python
        with:
          code: "def main(): return 1"
          function: json:dumps
    """
    d = only(text, "conflicting-parameters")
    assert covered(text, d) == "function"
    assert d.message == (
        "python node `calc` gives both `code` and `function`; they contradict each other: keep one"
    )
    assert [r.message for r in d.related] == ["`code` is given here"]


def test_json_and_body_together_contradict_each_other() -> None:
    text = """
    version: 1
    nodes:
      - {id: post, type: http, with: {url: "http://x", json: {a: 1}, body: text}}
    """
    d = only(text, "conflicting-parameters")
    assert covered(text, d) == "body"
