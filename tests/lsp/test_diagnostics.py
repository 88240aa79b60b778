"""Diagnostics: every workflow file at start-up, edits (debounced), changes on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from lsprotocol import types

from lsp.harness import Session, start_session
from lsp.test_symbols import rng
from lsp.workflows import BAD, QUICK, write


def fix(title: str, edit_range: types.Range, text: str) -> dict[str, Any]:
    start, end = edit_range.start, edit_range.end
    return {
        "fix": {
            "title": title,
            "edits": [
                {
                    "range": {
                        "start": {"line": start.line, "character": start.character},
                        "end": {"line": end.line, "character": end.character},
                    },
                    "newText": text,
                }
            ],
            "command": None,
        }
    }


def error(
    r: types.Range,
    code: str,
    message: str,
    data: Any,
    related: tuple[types.DiagnosticRelatedInformation, ...] | None = None,
) -> types.Diagnostic:
    return types.Diagnostic(
        range=r,
        severity=types.DiagnosticSeverity.Error,
        code=code,
        source="flowrun",
        message=message,
        data=data,
        related_information=related,
    )


def expected_bad(uri: str) -> list[types.Diagnostic]:
    """What the validator says about `BAD`, as LSP diagnostics of `uri`."""
    defined = types.DiagnosticRelatedInformation(
        location=types.Location(uri=uri, range=rng(2, 8, 2, 13)), message="`fetch` is defined here"
    )
    return [*EXPECTED_BAD[:2], attrs.evolve(EXPECTED_BAD[2], related_information=(defined,))]


EXPECTED_BAD = [
    error(
        rng(7, 10, 7, 18),
        "unknown-node-type",
        "unknown node type `transfrm` in node `summarize`; did you mean `transform`?",
        fix("Change to `transform`", rng(7, 10, 7, 18), "transform"),
    ),
    error(
        rng(8, 12, 8, 16),
        "unknown-needs",
        "node `summarize` needs `fetc`, but there is no node `fetc`; did you mean `fetch`?",
        fix("Change to `fetch`", rng(8, 12, 8, 16), "fetch"),
    ),
    error(
        rng(10, 17, 10, 42),
        "not-upstream",
        "`nodes.fetch` is not upstream of `summarize`; add `fetch` to `needs`",
        fix("Add `fetch` to `needs` of `summarize`", rng(8, 16, 8, 16), ", fetch"),
    ),
]


async def test_unopened_files_at_start_up(workspace: Path) -> None:
    write(workspace, "bad.workflow.yml", BAD)
    write(workspace, "deep/ok.workflow.yaml", QUICK)
    write(workspace, "node_modules/pkg/ignored.workflow.yml", BAD)
    write(workspace, ".flowrun/ignored.workflow.yml", BAD)
    session = await start_session(workspace)
    try:
        bad = await session.wait_diagnostics("bad.workflow.yml")
        assert bad == expected_bad(session.uri("bad.workflow.yml"))
        assert await session.wait_diagnostics("deep/ok.workflow.yaml") == []
        published = {p.uri for p in session.diagnostics.items}
        assert published == {session.uri("bad.workflow.yml"), session.uri("deep/ok.workflow.yaml")}
    finally:
        await session.stop()


async def test_edits_are_validated(workspace: Path) -> None:
    write(workspace, "a.workflow.yml", QUICK)
    session = await start_session(workspace)
    try:
        await session.wait_diagnostics("a.workflow.yml")  # the start-up scan
        mark = session.diagnostics.mark()
        session.open("a.workflow.yml", BAD, version=1)
        found = await session.wait_diagnostics("a.workflow.yml", since=mark)
        assert found == expected_bad(session.uri("a.workflow.yml"))
        mark = session.diagnostics.mark()
        session.replace("a.workflow.yml", QUICK, version=2)
        assert await session.wait_diagnostics("a.workflow.yml", since=mark) == []
        mark = session.diagnostics.mark()
        broken = QUICK.replace("run: echo hello", "run: [echo")
        session.replace("a.workflow.yml", broken, version=3)
        found = await session.wait_diagnostics("a.workflow.yml", since=mark)
        assert [d.code for d in found] == ["yaml-syntax"]
        assert found[0].severity == types.DiagnosticSeverity.Error
        mark = session.diagnostics.mark()
        session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=session.uri("a.workflow.yml"))
            )
        )  # closing re-validates what is on disk
        assert await session.wait_diagnostics("a.workflow.yml", since=mark) == []
    finally:
        await session.stop()


async def test_changes_on_disk(workspace: Path, session: Session) -> None:
    await session.watching()
    mark = session.diagnostics.mark()
    write(workspace, "new.workflow.yml", BAD)  # created after start-up
    found = await session.wait_diagnostics("new.workflow.yml", since=mark)
    assert found == expected_bad(session.uri("new.workflow.yml"))
    mark = session.diagnostics.mark()
    write(workspace, "new.workflow.yml", QUICK)  # fixed on disk
    assert await session.wait_diagnostics("new.workflow.yml", lambda d: d == [], mark) == []
    mark = session.diagnostics.mark()
    write(workspace, "new.workflow.yml", BAD)
    await session.wait_diagnostics("new.workflow.yml", lambda d: d != [], mark)
    mark = session.diagnostics.mark()
    (workspace / "new.workflow.yml").unlink()
    assert await session.wait_diagnostics("new.workflow.yml", since=mark) == []


async def test_a_workflow_written_into_a_new_folder_is_seen(
    workspace: Path, session: Session
) -> None:
    """A checkout creates a folder and its files at once, before the folder is watched."""
    await session.watching()
    mark = session.diagnostics.mark()
    write(workspace / "flows" / "deeper", "checked-out.workflow.yml", BAD)
    found = await session.wait_diagnostics("flows/deeper/checked-out.workflow.yml", since=mark)
    assert found == expected_bad(session.uri("flows/deeper/checked-out.workflow.yml"))


async def test_workspace_folders_added_and_removed(workspace: Path, session: Session) -> None:
    await session.watching()
    other = workspace.parent / "other"
    there = write(other, "there.workflow.yml", BAD).as_uri()
    folder = types.WorkspaceFolder(uri=other.as_uri(), name="other")

    def folders(added: list[types.WorkspaceFolder], removed: list[types.WorkspaceFolder]) -> None:
        event = types.WorkspaceFoldersChangeEvent(added=added, removed=removed)
        session.client.workspace_did_change_workspace_folders(
            types.DidChangeWorkspaceFoldersParams(event=event)
        )

    mark = session.diagnostics.mark()
    folders([folder], [])
    await session.diagnostics.wait_for(lambda p: p.uri == there and p.diagnostics, since=mark)
    # the added folder is watched too
    await session.logs.wait_for(lambda p: str(other) in p.message and "Watching" in p.message)
    later = (other / "later.workflow.yml").as_uri()
    mark = session.diagnostics.mark()
    write(other, "later.workflow.yml", BAD)
    await session.diagnostics.wait_for(lambda p: p.uri == later and p.diagnostics, since=mark)

    mark = session.diagnostics.mark()
    folders([], [folder])
    for uri in (there, later):
        await session.diagnostics.wait_for(
            lambda p, uri=uri: p.uri == uri and not p.diagnostics, since=mark
        )


async def test_two_files_with_one_workflow_id_each_get_a_diagnostic(workspace: Path) -> None:
    write(workspace, "a/deploy.workflow.yml", QUICK)
    write(workspace, "b/deploy.workflow.yml", QUICK)
    session = await start_session(workspace)
    try:
        for mine, other in (("a", "b"), ("b", "a")):
            found = await session.wait_diagnostics(f"{mine}/deploy.workflow.yml", lambda d: d != [])
            [d] = found
            assert d.code == "duplicate-workflow-id"
            assert d.message.startswith("workflow id `deploy` (from the file name) is also the id")
            assert d.related_information is not None
            assert d.related_information[0].location.uri == session.uri(
                f"{other}/deploy.workflow.yml"
            )
        mark = session.diagnostics.mark()
        session.open("b/deploy.workflow.yml", "id: other\n" + QUICK, version=1)
        assert (
            await session.wait_diagnostics("a/deploy.workflow.yml", lambda d: d == [], mark) == []
        )
    finally:
        await session.stop()


YAML_1_1_TRAPS = """version: 1
env: {FLAG: yes, ZIP: 012, BIG: 1_000}
nodes:
  - id: a
    type: shell
    timeout: 1:30
    retry: {attempts: 2.0}
    with: {run: ls}
  - {id: b, type: transform, with: {value: .inf}}
"""


async def test_the_editor_and_the_cli_say_the_same_about_yaml_1_1_traps(workspace: Path) -> None:
    import json
    import subprocess
    import sys

    write(workspace, "traps.workflow.yml", YAML_1_1_TRAPS)
    cli = subprocess.run(
        [sys.executable, "-m", "flowrun", "validate", "--format", "json", "traps.workflow.yml"],
        cwd=workspace,
        capture_output=True,
        text=True,
        check=False,
    )
    expected = [
        (d["code"], d["range"]["start"]["line"], d["range"]["start"]["character"])
        for d in json.loads(cli.stdout)
    ]
    assert [c for c, *_ in expected] == ["bad-duration", "schema"]
    session = await start_session(workspace)
    try:
        found = await session.wait_diagnostics("traps.workflow.yml")
        assert [(d.code, d.range.start.line, d.range.start.character) for d in found] == expected
    finally:
        await session.stop()


HOOK = """version: 1
trigger: {type: http, method: POST, path: /hook}
nodes:
  - {id: a, type: transform, with: {value: 1}}
"""


async def test_two_workflows_on_one_route_each_get_route_conflict(workspace: Path) -> None:
    write(workspace, "a.workflow.yml", HOOK)
    write(workspace, "b.workflow.yml", HOOK)
    session = await start_session(workspace)
    try:
        for mine, other in (("a", "b"), ("b", "a")):
            found = await session.wait_diagnostics(f"{mine}.workflow.yml", lambda d: d != [])
            [d] = found
            assert d.code == "route-conflict"
            assert "POST /hook" in d.message
            assert d.related_information is not None
            assert d.related_information[0].location.uri == session.uri(f"{other}.workflow.yml")
        mark = session.diagnostics.mark()
        session.open("b.workflow.yml", HOOK.replace("/hook", "/other"), version=1)
        assert await session.wait_diagnostics("a.workflow.yml", lambda d: d == [], mark) == []
    finally:
        await session.stop()
