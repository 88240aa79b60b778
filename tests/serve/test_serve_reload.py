"""Hot reload and route conflicts, against a real server watching a real folder."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
from served import write

GREET = """\
version: 1
trigger: {{type: http, method: POST, path: "{path}"}}
nodes:
  - id: say
    type: shell
    with: {{run: "sleep {nap}; printf {word}"}}
outputs:
  word: ${{{{ nodes.say.output.stdout }}}}
"""


def greet(word: str, path: str = "/greet", nap: float = 0) -> str:
    return GREET.format(word=word, path=path, nap=nap)


def _word(client: httpx.Client, path: str = "/greet") -> Any:
    answer = client.post(path)
    return answer.json().get("word") if answer.status_code == 200 else answer.status_code


def test_a_valid_change_replaces_the_route_while_in_flight_finish_on_the_old(
    tmp_path: Path, serve_factory: Any
) -> None:
    file = write(tmp_path, "greet.workflow.yml", greet("old", nap=2))
    server = serve_factory().start()
    answers: list[Any] = []
    in_flight = threading.Thread(
        target=lambda: answers.append(httpx.post(f"{server.url}/greet", timeout=60).json())
    )
    in_flight.start()
    server.wait_for(
        "running", lambda: server.rows("SELECT status FROM executions") == [("running",)]
    )
    file.write_text(greet("new"))
    with server.client() as client:
        server.wait_for("the new version", lambda: _word(client) == "new")
    in_flight.join(60)
    assert answers == [{"word": "old"}]


def test_an_invalid_change_keeps_the_last_valid_version(tmp_path: Path, serve_factory: Any) -> None:
    file = write(tmp_path, "greet.workflow.yml", greet("kept"))
    server = serve_factory().start()
    file.write_text(greet("broken").replace("type: shell", "type: shel"))
    server.wait_for("the diagnostics", lambda: "not reloaded" in server.output())
    with server.client() as client:
        assert _word(client) == "kept"
    assert f"{file}:5:11: error[unknown-node-type]" in server.output()


def test_a_deleted_file_answers_404(tmp_path: Path, serve_factory: Any) -> None:
    file = write(tmp_path, "greet.workflow.yml", greet("here"))
    server = serve_factory().start()
    with server.client() as client:
        assert _word(client) == "here"
        file.unlink()
        server.wait_for("404", lambda: _word(client) == 404)


def test_a_new_file_on_a_taken_route_is_refused(tmp_path: Path, serve_factory: Any) -> None:
    write(tmp_path, "first.workflow.yml", greet("first"))
    server = serve_factory().start()
    write(tmp_path, "second.workflow.yml", greet("second"))
    server.wait_for("the refusal", lambda: "error[route-conflict]" in server.output())
    with server.client() as client:
        assert _word(client) == "first"
    write(tmp_path, "third.workflow.yml", greet("third", path="/third"))
    with server.client() as client:
        server.wait_for("the new file", lambda: _word(client, "/third") == "third")


def test_two_workflows_on_one_route_refuse_to_start(tmp_path: Path, serve_factory: Any) -> None:
    write(tmp_path, "a.workflow.yml", greet("a", path="/orders/{id}"))
    write(tmp_path, "b.workflow.yml", greet("b", path="/orders/{order}"))
    server = serve_factory().start(wait=False)
    assert server.wait_exit() == 1
    output = server.output()
    assert "two workflows on one route" in output
    assert f"{tmp_path / 'a.workflow.yml'}:2:" in output
    assert f"{tmp_path / 'b.workflow.yml'}:2:" in output


def test_validate_reports_route_conflict_on_both_files(tmp_path: Path) -> None:
    write(tmp_path, "a.workflow.yml", greet("a"))
    write(tmp_path, "b.workflow.yml", greet("b"))
    write(tmp_path, "c.workflow.yml", greet("c", path="/other"))
    done = subprocess.run(
        [sys.executable, "-m", "flowrun", "validate", str(tmp_path), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    found = json.loads(done.stdout)
    assert sorted(Path(d["file"]).name for d in found) == ["a.workflow.yml", "b.workflow.yml"]
    assert {d["code"] for d in found} == {"route-conflict"}
    assert (
        "b.workflow.yml:2"
        in next(d for d in found if d["file"].endswith("a.workflow.yml"))["message"]
    )
