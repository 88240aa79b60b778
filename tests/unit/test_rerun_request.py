"""`runs.rerun.request_from`: the one rule for the inputs and trigger of a run that starts
from an earlier execution (Run from here, `--from-execution`, Re-run changed, `--changed`)."""

from __future__ import annotations

from flowrun.runs.rerun import RerunSource, request_from

HOOK = {"method": "POST", "path": "/hook", "headers": {}, "query": {}, "body": {"n": 1}}
BASE = RerunSource("e1", inputs={"who": "Ada", "times": 2}, trigger=HOOK)


def test_given_inputs_override_the_base_key_by_key() -> None:
    assert request_from(BASE, {"who": "Bob"}, None) == ({"who": "Bob", "times": 2}, HOOK)
    assert request_from(BASE, None, None) == ({"who": "Ada", "times": 2}, HOOK)
    assert request_from(BASE, {}, None) == ({"who": "Ada", "times": 2}, HOOK)


def test_a_given_trigger_replaces_the_base_trigger() -> None:
    other = {"method": "GET", "path": "/other", "headers": {}, "query": {}, "body": None}
    assert request_from(BASE, None, other) == ({"who": "Ada", "times": 2}, other)


def test_without_a_base_what_is_given_is_used_as_it_is() -> None:
    assert request_from(None, None, None) == (None, None)
    assert request_from(None, {"who": "Bob"}, HOOK) == ({"who": "Bob"}, HOOK)
    bare = RerunSource("e2", inputs=None, trigger=None)
    assert request_from(bare, None, None) == (None, None)
    assert request_from(bare, {"who": "Bob"}, None) == ({"who": "Bob"}, None)
