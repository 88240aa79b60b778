"""Each matcher of a test's `expect`, passing and failing (flowrun.testing.matchers)."""

from __future__ import annotations

from typing import Any

import pytest

from flowrun.testing.matchers import MISSING, match, match_fields, matcher_name


def ok(expected: Any, actual: Any) -> bool:
    return not match(expected, actual)


@pytest.mark.parametrize(
    ("expected", "actual", "passes"),
    [
        # plain values: deep equality, nested matchers allowed
        ("text", "text", True),
        ("text", "other", False),
        (1, 1.0, True),
        (True, 1, False),
        ({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2]}, True),
        ({"a": 1}, {"a": 1, "extra": 2}, False),
        ({"a": 1, "b": 2}, {"a": 1}, False),
        ([1, 2], [1, 2, 3], False),
        ({"content": {"contains": "x"}, "n": 1}, {"content": "axb", "n": 1}, True),
        # equals: a value that looks like a matcher
        ({"equals": {"len": 3}}, {"len": 3}, True),
        ({"equals": {"len": 3}}, [1, 2, 3], False),
        # contains
        ({"contains": "local"}, "runs locally", True),
        ({"contains": "cloud"}, "runs locally", False),
        ({"contains": 429}, "error 429 Too Many", True),
        ({"contains": {"id": 2}}, [{"id": 1}, {"id": 2}], True),
        ({"contains": 3}, [1, 2], False),
        ({"contains": "k"}, {"k": 1}, True),
        ({"contains": "x"}, 12, False),
        # matches
        ({"matches": r"^\d{3}-\d+$"}, "123-45", True),
        ({"matches": r"^\d+$"}, "12a", False),
        ({"matches": "x"}, None, False),
        # subset
        ({"subset": {"a": 1}}, {"a": 1, "b": 2}, True),
        ({"subset": {"a": {"b": 1}}}, {"a": {"b": 1, "c": 2}}, True),
        ({"subset": {"a": 2}}, {"a": 1, "b": 2}, False),
        ({"subset": {"a": {"contains": "y"}}}, {"a": "xyz"}, True),
        ({"subset": [2]}, [1, 2, 3], True),
        ({"subset": [4]}, [1, 2, 3], False),
        # approx
        ({"approx": 0.3}, 0.1 + 0.2, True),
        ({"approx": 10, "tol": 0.5}, 10.4, True),
        ({"approx": 10, "tol": 0.5}, 10.6, False),
        ({"approx": 1}, "1", False),
        # type
        ({"type": "string"}, "x", True),
        ({"type": "number"}, 1.5, True),
        ({"type": "integer"}, 2, True),
        ({"type": "integer"}, 2.5, False),
        ({"type": "boolean"}, 0, False),
        ({"type": "object"}, {}, True),
        ({"type": "array"}, [], True),
        ({"type": "null"}, None, True),
        ({"type": "string"}, 3, False),
        # len
        ({"len": 2}, [1, 2], True),
        ({"len": 3}, "abc", True),
        ({"len": 1}, {"a": 1, "b": 2}, False),
        ({"len": 1}, 5, False),
        # absent
        ({"absent": True}, MISSING, True),
        ({"absent": True}, None, True),
        ({"absent": True}, "x", False),
        ({"absent": False}, "x", True),
        ({"absent": False}, MISSING, False),
    ],
)
def test_matchers(expected: Any, actual: Any, passes: bool) -> None:
    assert ok(expected, actual) is passes


def test_a_mapping_is_a_matcher_only_in_one_of_its_forms() -> None:
    assert matcher_name({"contains": "x"}) == "contains"
    assert matcher_name({"approx": 1, "tol": 0.1}) == "approx"
    assert matcher_name({"type": "string"}) == "type"
    assert matcher_name({"type": "ProviderError"}) is None  # a plain mapping
    assert matcher_name({"contains": "x", "other": 1}) is None
    assert matcher_name({"content": "x"}) is None
    assert matcher_name({}) is None


def test_a_key_missing_from_a_mapping_matches_absent() -> None:
    assert ok({"a": 1, "b": {"absent": True}}, {"a": 1})
    assert not ok({"a": 1, "b": {"absent": True}}, {"a": 1, "b": 2})


def test_mismatches_say_where_and_what() -> None:
    found = match({"a": {"b": [1, {"contains": "z"}]}}, {"a": {"b": [1, "xy"]}})
    assert len(found) == 1
    assert found[0].path == ("a", "b", 1)
    assert found[0].message == 'expected "xy" to contain "z"'
    assert found[0].actual == "xy"


def test_error_expectations_name_some_fields() -> None:
    error = {"type": "ProviderError", "message": "429 Too Many Requests", "node": "llm"}
    assert not match_fields({"type": "ProviderError"}, error)
    assert not match_fields({"message": {"contains": "429"}}, error)
    found = match_fields({"type": "HTTPError"}, error)
    assert [m.path for m in found] == [("type",)]
    assert match_fields({"type": "X"}, MISSING)[0].message.startswith("expected a mapping")
    assert not match_fields({"absent": True}, MISSING)
