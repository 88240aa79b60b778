"""Definition hashes (issue 17, design §9 `hash`): formatting-only edits keep every hash, a
semantic edit changes the node's and its downstream nodes' hashes, and nothing else."""

from __future__ import annotations

from pathlib import Path

from flowrun.spec.resolve import node_hashes, resolve
from flowrun.validate import validate_text

BASE = """\
version: 1
nodes:
  - id: a
    type: shell
    with: {run: echo a}
  - id: b
    type: python
    needs: [a]
    with:
      args: {x: "${{ nodes.a.output.stdout }}"}
      code: |
        def main(x):
            return x
  - id: c
    type: transform
    with: {value: "${{ nodes.b.output }}"}
  - id: lone
    type: transform
    with: {value: 1}
"""

# comments, blank lines, flow vs block style, key order, quoting
REFORMATTED = """\
version: 1
# a comment
nodes:

  - id: a
    with:
      run: 'echo a'
    type: shell
  - type: python
    id: b
    needs: [a]
    with:
      code: |
        def main(x):
            return x
      args:
        x: ${{ nodes.a.output.stdout }}
  - id: c
    type: transform
    with:
      value: "${{ nodes.b.output }}"
  - id: lone
    type: transform
    with: {value: 1}
"""


def hashes(text: str) -> dict[str, str]:
    path = Path("/ws/h.workflow.yml")
    checked = validate_text(text, path)
    assert checked.workflow is not None
    resolved = resolve(checked.workflow, path, source=checked.source)
    return {n["id"]: n["hash"] for s in resolved["workflow"]["stages"] for n in s["nodes"]}


def test_formatting_only_edits_keep_every_hash() -> None:
    base = hashes(BASE)
    assert len(set(base.values())) == 4
    assert hashes(REFORMATTED) == base


def test_a_semantic_edit_changes_the_node_and_its_downstream_only() -> None:
    base = hashes(BASE)
    edited = hashes(BASE.replace("return x", "return x * 2"))
    changed = {n for n in base if base[n] != edited[n]}
    assert changed == {"b", "c"}  # c reads b's output; a and lone do not depend on b
    upstream = hashes(BASE.replace("echo a", "echo A"))
    assert {n for n in base if base[n] != upstream[n]} == {"a", "b", "c"}
    timeout = hashes(BASE.replace("  - id: lone\n", "  - id: lone\n    timeout: 5s\n"))
    assert {n for n in base if base[n] != timeout[n]} == {"lone"}


def test_the_editor_s_hashes_without_inputs_are_the_run_s() -> None:
    """`node_hashes` (the CodeLens's, from the validated model) equals what a run records,
    even for a workflow with a required input a run would have to be given."""
    text = BASE.replace("version: 1\n", "version: 1\ninputs: {who: {type: string}}\n")
    checked = validate_text(text, "/ws/h.workflow.yml")
    assert checked.workflow is not None
    assert node_hashes(checked.workflow) == hashes(BASE)
