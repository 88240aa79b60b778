"""`secret-literal`: warnings on values that look like API keys, never echoing them."""

from __future__ import annotations

import pytest

from flowrun.validate import Severity
from unit.helpers import check, covered

KEYS = [
    "sk-abcdefghijklmnopqrstuvwxyz012345",
    "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
    "gsk_abcdefghijklmnopqrstuvwxyz0123",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "AKIAABCDEFGHIJKLMNOP",
    "xoxb-1234567890-abcdef",
    "AIza" + "a1B2c3D4e5" * 3 + "F6g7h",
    "hf_abcdefghijklmnopqrstuvwxyz01234567",
    "Zx8Qm2Lr7Tn4Vb9Kc1Hp6Wd3Jf5Gs0Ya",  # random-looking
]


@pytest.mark.parametrize("key", KEYS)
def test_api_key_shapes_are_warned_about_on_the_token(key: str) -> None:
    text = (
        "version: 1\nnodes:\n  - id: a\n    type: shell\n    with:\n"
        f'      run: curl -H "auth {key}" x\n'
    )
    [d] = check(text).diagnostics
    assert d.code == "secret-literal" and d.severity is Severity.WARNING
    assert covered(text, d) == key
    assert key not in d.message and d.message.startswith(f"`{key[:4]}…` looks like an API key")


@pytest.mark.parametrize(
    "value",
    [
        "0123456789abcdef0123456789abcdef01234567",  # a hex digest
        "this_is_a_very_long_identifier_name_indeed",
        "https://example.com/some/long/path/to/a/resource.json",
        "short",
        "${{ secrets.API_KEY }}",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaAAAAAAAAAA1",  # low entropy
    ],
)
def test_ordinary_values_are_not_flagged(value: str) -> None:
    text = (
        "version: 1\nsecrets: [API_KEY]\n"
        f"nodes: [{{id: a, type: transform, with: {{value: '{value}'}}}}]\n"
    )
    assert check(text).diagnostics == []


def test_a_key_inside_a_folded_value_is_still_found() -> None:
    key = "sk-abcdefghijklmnopqrstuvwxyz012345"
    text = f'version: 1\nnodes: [{{id: a, type: transform, with: {{value: "x\\ty {key}"}}}}]\n'
    [d] = check(text).diagnostics
    assert covered(text, d) == key


def test_a_key_that_cannot_be_located_warns_on_the_whole_value() -> None:
    text = (
        "version: 1\nnodes: [{id: a, type: transform, with: {value: "
        '"sk-abcdefghij\\\nklmnopqrstuvwxyz012345"}}]\n'
    )
    [d] = check(text).diagnostics
    assert d.code == "secret-literal"
    assert d.message.startswith("a value here looks like an API key")
