"""The pure parts of `flowrun serve`: paths, bodies, signatures, error messages."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from flowrun.runs.outcome import RunResult
from flowrun.serve.auth import authorized
from flowrun.serve.respond import clean_message, failure
from flowrun.serve.routes import compile_path
from flowrun.serve.trigger import masked, parse_body, trigger_of
from flowrun.spec.models import TriggerAuth


def test_paths_match_with_parameters_and_without_trailing_slash() -> None:
    pattern = compile_path("/orders/{id}/lines/{line}")
    found = pattern.fullmatch("/orders/7/lines/2")
    assert found is not None and found.groupdict() == {"id": "7", "line": "2"}
    assert pattern.fullmatch("/orders/7/lines") is None
    assert pattern.fullmatch("/orders/7/x/lines/2") is None
    assert compile_path("/a.b").fullmatch("/aXb") is None  # literal parts are escaped


def test_bodies_are_json_when_the_content_type_says_so() -> None:
    assert parse_body(b'{"a": 1}', "application/json; charset=utf-8") == {"a": 1}
    assert parse_body(b'{"a": 1}', "application/vnd.api+json") == {"a": 1}
    assert parse_body(b'{"a": 1}', "text/plain") == '{"a": 1}'
    assert parse_body(b"not json", "application/json") == "not json"
    assert parse_body(b"", "application/json") is None


def test_the_trigger_lower_cases_headers_and_masks_credentials() -> None:
    trigger = trigger_of(
        "post", "/x", [("X-Id", "1"), ("Authorization", "Bearer s3cr3t-value")], [], b"", {}
    )
    assert trigger["method"] == "POST" and trigger["headers"]["x-id"] == "1"
    shown = masked({**trigger, "query": {"k": "s3cr3t-value"}}, {"S": "s3cr3t-value"})
    assert shown["headers"]["authorization"] == "Bearer ***"
    assert shown["query"] == {"k": "***"}


def test_bearer_and_hmac() -> None:
    bearer = TriggerAuth.model_validate({"bearer": "${{ secrets.T }}"})
    assert authorized(bearer, {"T": "abc"}, {"authorization": "Bearer abc"}, b"")
    assert not authorized(bearer, {"T": "abc"}, {"authorization": "Bearer abd"}, b"")
    assert not authorized(bearer, {}, {"authorization": "Bearer "}, b"")  # unset secret: refuse
    signed = TriggerAuth.model_validate(
        {"hmac": {"header": "X-Sig", "secret": "${{ secrets.K }}", "algorithm": "sha1"}}
    )
    digest = hmac.new(b"key", b"body", hashlib.sha1).hexdigest()
    assert authorized(signed, {"K": "key"}, {"x-sig": digest}, b"body")
    assert not authorized(signed, {"K": "key"}, {"x-sig": digest}, b"body2")
    assert not authorized(signed, {"K": "key"}, {"x-sig": "é"}, b"body")  # non-ASCII: no raise


def test_error_answers_keep_one_line_without_paths_or_secrets() -> None:
    message = "cannot open /home/ada/data/x.csv (key abc123)\nTraceback (most recent call last)"
    assert clean_message(message, {"K": "abc123"}) == "cannot open <path> (key ***)"
    result = RunResult("timed_out", None, {"type": "TimedOut", "message": "late"}, None, False)
    answer = failure("e1", result, {})
    assert answer.status == 504
    assert answer.body == {"executionId": "e1", "error": {"type": "TimedOut", "message": "late"}}


def test_workspace_rules_report_route_conflicts_on_both_files(tmp_path: Path) -> None:
    """What the editor shows too: the language server adds the workspace diagnostics."""
    from flowrun.validate import validate_text
    from flowrun.validate.workspace import workspace_diagnostics

    def text(wid: str, path: str) -> str:
        return (
            f"version: 1\nid: {wid}\ntrigger: {{type: http, method: post, path: '{path}'}}\n"
            "nodes: [{id: a, type: transform, with: {value: 1}}]\n"
        )

    files = {
        tmp_path / "a.workflow.yml": text("a", "/x/{id}"),
        tmp_path / "b.workflow.yml": text("b", "/x/{other}/"),
        tmp_path / "c.workflow.yml": text("c", "/y"),
    }
    results = [(path, validate_text(body, path)) for path, body in files.items()]
    extra = workspace_diagnostics(results)
    assert sorted(p.name for p in extra) == ["a.workflow.yml", "b.workflow.yml"]
    (first,) = extra[tmp_path / "a.workflow.yml"]
    assert first.code == "route-conflict" and first.range.start.line == 2
    assert "b.workflow.yml:3" in first.message and "POST /x/{}" in first.message
