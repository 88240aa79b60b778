"""The server stays responsive: validation runs in a worker process, stale work is dropped,
and nothing expands a YAML value without the loader's limit (issue 12.5, 12.6)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from lsp.harness import Session
from lsp.test_codelens import lenses
from lsp.workflows import QUICK, write

# 10 × 10 × 10 × 10 × 10 aliases of a 200-character text: ~111,000 values, within the
# loader's limit, but 20 MB once written out as JSON (the sample a CodeLens carries).
LEAF = "x" * 200
ALIAS_BOMB = f"""\
version: 1
trigger:
  type: http
  sample:
    body:
      a: &a ["{LEAF}", "{LEAF}", "{LEAF}", "{LEAF}", "{LEAF}", "{LEAF}", "{LEAF}", "{LEAF}", "{LEAF}", "{LEAF}"]
      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
      d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
      e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
nodes:
  - {{id: echo, type: transform, with: {{value: 1}}}}
"""  # noqa: E501


def big_workflow(nodes: int) -> str:
    lines = ["version: 1", "nodes:"]
    for i in range(nodes):
        lines += [f"  - id: n{i}", "    type: transform", "    with:", f"      value: {i}"]
    return "\n".join(lines) + "\n"


async def test_a_sample_that_aliases_blow_up_is_not_sent(workspace: Path, session: Session) -> None:
    write(workspace, "bomb.workflow.yml", ALIAS_BOMB)
    found = await lenses(session, "bomb.workflow.yml")
    with_request = [lens for lens in found if lens.command and "Request" in lens.command.title]
    assert len(with_request) == 1
    assert with_request[0].command is not None
    [argument] = with_request[0].command.arguments or []
    assert argument["trigger"] is None
    assert await session.request("flowrun/history", {"limit": 1}) is not None


async def test_requests_are_answered_while_a_large_file_is_validated(
    workspace: Path, session: Session
) -> None:
    write(workspace, "small.workflow.yml", QUICK)
    await session.wait_diagnostics("small.workflow.yml")
    mark = session.diagnostics.mark()
    session.open("big.workflow.yml", big_workflow(20_000))  # about 1.5 MB
    big = session.uri("big.workflow.yml")
    symbols = await session.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(
            text_document=types.TextDocumentIdentifier(uri=session.uri("small.workflow.yml"))
        )
    )
    await session.request("flowrun/history", {"limit": 1})
    answered_before = [p.uri for p in session.diagnostics.items[mark:]]
    assert [s.name for s in symbols or []] == ["hello", "shout"]
    assert big not in answered_before  # the answers did not wait for the big file
    await session.wait_diagnostics("big.workflow.yml", since=mark)


async def test_a_newer_edit_replaces_a_stale_validation(workspace: Path, session: Session) -> None:
    session.open("a.workflow.yml", big_workflow(20_000))
    await asyncio.sleep(0.05)  # let the first validation start
    mark = session.diagnostics.mark()
    session.replace("a.workflow.yml", QUICK.replace("type: shell", "type: shel"), version=2)
    first = await session.wait_diagnostics("a.workflow.yml", since=mark)
    assert [d.code for d in first] == ["unknown-node-type"]  # the newer text's, not the stale one's
