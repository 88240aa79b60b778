"""`template-injection` and `secret-in-command`, and their quick fix that moves the value
into `with.env`: after the fix, the file is valid and the warning is gone."""

from __future__ import annotations

import pytest

from flowrun.spec.loader import load_data
from unit.helpers import apply_fix, check, covered, only

HEAD = """
version: 1
inputs:
  who: {type: string, default: world}
  count: {type: number, default: 1}
secrets: [API_KEY]
"""


def fixed(text: str, code: str) -> str:
    d = only(text, code)
    result = apply_fix(text, d)
    assert check(result).diagnostics == [], result
    return result


def test_an_input_in_a_shell_command_is_a_warning_with_a_fix_to_env() -> None:
    text = (
        HEAD
        + """nodes:
  - id: greet
    type: shell
    with:
      run: echo "Hello ${{ inputs.who }}" | tr a-z A-Z
"""
    )
    d = only(text, "template-injection")
    assert d.severity == "warning"
    assert covered(text, d) == "${{ inputs.who }}"
    assert d.message == (
        "`inputs.who` is untrusted text pasted into the command of node `greet`: text such as "
        '`"; rm -rf ~` would run; pass it in `with.env` and read it as "$WHO"'
    )
    assert d.fix is not None and d.fix.title == "Move `${{ inputs.who }}` into `with.env` as `WHO`"
    assert fixed(text, "template-injection").endswith(
        "    with:\n"
        "      env:\n"
        "        WHO: '${{ inputs.who }}'\n"
        '      run: echo "Hello ${WHO}" | tr a-z A-Z\n'
    )
    assert covered(text, d) == "${{ inputs.who }}"


@pytest.mark.parametrize(
    ("run", "after"),
    [
        ("echo ${{ trigger.body.text }}", 'echo "${TRIGGER_BODY_TEXT}"'),
        ("echo '${{ trigger.body.text }}'", "echo ''\"${TRIGGER_BODY_TEXT}\"''"),
    ],
)
def test_the_reference_is_quoted_for_where_it_stands(run: str, after: str) -> None:
    text = (
        HEAD
        + f"""nodes:
  - id: a
    type: shell
    with:
      env: {{OTHER: x}}
      run: {run!r}
"""
    )
    result = fixed(text, "template-injection")
    assert "env: {OTHER: x, TRIGGER_BODY_TEXT: '${{ trigger.body.text }}'}" in result
    assert load_data(result)["nodes"][0]["with"]["run"] == after


def test_untrusted_node_outputs_and_what_passes_them_on() -> None:
    text = (
        HEAD
        + """nodes:
  - {id: fetch, type: http, with: {url: "http://example.test"}}
  - {id: passed, type: transform, needs: [fetch], with: {value: "${{ nodes.fetch.output.body }}"}}
  - {id: number, type: transform, with: {value: "${{ inputs.count }}"}}
  - id: use
    type: shell
    needs: [fetch, passed, number]
    with:
      run: |
        echo ${{ nodes.fetch.output.status }}
        echo ${{ nodes.passed.output }} ${{ nodes.number.output }} ${{ nodes.fetch.status }}
"""
    )
    found = [covered(text, d) for d in check(text).diagnostics]
    assert found == ["${{ nodes.fetch.output.status }}", "${{ nodes.passed.output }}"]


def test_argv_is_not_a_shell_but_a_secret_there_is_still_visible() -> None:
    text = (
        HEAD
        + """nodes:
  - id: a
    type: shell
    with:
      run: [echo, "${{ inputs.who }}", "${{ secrets.API_KEY }}"]
"""
    )
    d = only(text, "secret-in-command")
    assert covered(text, d) == "${{ secrets.API_KEY }}"
    assert d.fix is not None


def test_a_secret_in_a_shell_command_is_an_error_with_a_fix() -> None:
    text = (
        HEAD
        + """nodes:
  - id: call
    type: shell
    with:
      run: curl -u "me:${{ secrets.API_KEY }}" https://example.test
"""
    )
    d = only(text, "secret-in-command")
    assert d.severity == "error"
    assert d.message.startswith("`secrets.API_KEY` is pasted into the command of node `call`")
    assert d.message.endswith('pass it in `with.env` and read it there as "$API_KEY"')
    result = fixed(text, "secret-in-command")
    assert "API_KEY: '${{ secrets.API_KEY }}'" in result
    assert '-u "me:${API_KEY}" https' in result


def test_python_code_gets_os_environ_and_an_import() -> None:
    text = (
        HEAD
        + """nodes:
  - id: py
    type: python
    with:
      code: |
        def main():
            token = "${{ secrets.API_KEY }}"
            return "Hello ${{ inputs.who }}!"
"""
    )
    secret = next(d for d in check(text).diagnostics if d.code == "secret-in-command")
    first = apply_fix(text, secret)
    assert "import os\n        def main():" in first
    assert 'token = os.environ["API_KEY"]' in first
    result = fixed(first, "template-injection")
    assert 'return "Hello " + os.environ["WHO"] + "!"' in result
    assert result.count("import os") == 1
    assert "      env:\n        API_KEY: '${{ secrets.API_KEY }}'\n        WHO: " in result


def test_safe_values_are_not_flagged() -> None:
    text = (
        HEAD
        + """nodes:
  - id: a
    type: shell
    with:
      run: echo "${{ inputs.count }} $WHO"
      env: {WHO: "${{ inputs.who }}", KEY: "${{ secrets.API_KEY }}"}
  - {id: t, type: transform, with: {value: "${{ inputs.who }} ${{ secrets.API_KEY }}"}}
"""
    )
    assert check(text).diagnostics == []
