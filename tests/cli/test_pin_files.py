"""Pin files (issue 17): `.flowrun/pins/<workflow-id>/<node-id>.json` gives a test-mode run the
node's pinned output (the node does not run and is `pinned` in the tree, as with `pin:`), a
`pin:` in the file wins, production never uses it, and `stale_pins` finds the pins whose
definition hash is no longer the node's. Real engine children, a real SQLite history."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from flowrun.cli import main
from flowrun.history.store import HistoryStore
from flowrun.runs.pins import pin_path, read_pins, remove_pin, stale_pins, write_pin
from flowrun.runs.service import RunService
from flowrun.spec.resolve import node_hashes
from flowrun.validate import validate_text

FLOW = """\
version: 1
id: pinned-flow
nodes:
  - {id: fetch, type: python, with: {code: "def main(): return {'live': True}"}}
  - {id: use, type: transform, needs: [fetch], with: {value: "${{ nodes.fetch.output }}"}}
outputs:
  got: ${{ nodes.use.output }}
"""


@pytest.fixture(autouse=True)
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / ".git").mkdir()
    return tmp_path


def hashes_of(path: Path) -> dict[str, str]:
    checked = validate_text(path.read_text(), path)
    assert checked.workflow is not None
    return node_hashes(checked.workflow)


def test_a_pin_file_pins_the_node_of_a_test_run(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workspace / "flow.workflow.yml"
    path.write_text(FLOW)
    written = write_pin(
        path,
        "pinned-flow",
        "fetch",
        output={"live": False},
        node_hash=hashes_of(path)["fetch"],
        from_execution="e1",
    )
    assert written == workspace / ".flowrun" / "pins" / "pinned-flow" / "fetch.json"
    content = json.loads(written.read_text())
    assert content["node"] == "fetch" and content["output"] == {"live": False}
    assert content["fromExecution"] == "e1" and content["pinnedAt"].endswith("Z")

    code = main(["run", str(path), "--json", "--python", sys.executable])
    tree = json.loads(capsys.readouterr().out)
    assert code == 0
    assert tree["outputs"] == {"got": {"live": False}}
    fetch = next(node for node in tree["children"] if node["id"] == "fetch")
    assert fetch["pinned"] is True and fetch["startedAt"] is None  # it did not run
    assert stale_pins(path, "pinned-flow", hashes_of(path)) == {}

    path.write_text(FLOW.replace("'live': True", "'live': 1"))  # the pinned node changed
    assert list(stale_pins(path, "pinned-flow", hashes_of(path))) == ["fetch"]

    path.write_text(FLOW.replace("type: python,", "type: python, pin: {inline: 1},"))
    code = main(["run", str(path), "--json", "--python", sys.executable])
    assert json.loads(capsys.readouterr().out)["outputs"] == {"got": {"inline": 1}}  # `pin:` wins

    path.write_text(FLOW)
    assert main(["run", str(path), "--json", "--python", sys.executable]) == 0  # pinned again
    capsys.readouterr()
    assert remove_pin(path, "pinned-flow", "fetch") is True
    assert not pin_path(path, "pinned-flow", "fetch").exists()
    # unpinned, a changed run runs the node: the base's pinned output is not its own
    code = main(["run", str(path), "--changed", "--json", "--python", sys.executable])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["outputs"] == {"got": {"live": True}}
    assert "fetch (no output of its own in" in err and "use (uses fetch)" in err
    assert remove_pin(path, "pinned-flow", "fetch") is False
    assert read_pins(path, "pinned-flow") == {}


async def test_production_never_uses_pin_files(workspace: Path) -> None:
    path = workspace / "flow.workflow.yml"
    path.write_text(FLOW)
    write_pin(path, "pinned-flow", "fetch", output="pinned", node_hash=None, from_execution=None)
    (pin_path(path, "pinned-flow", "use").write_text("not json"))  # a broken file is left out
    store = await HistoryStore.open(workspace / ".flowrun" / "history.sqlite3")
    service = RunService(store, python=sys.executable, mode="production")
    try:
        execution_id = await service.execute(path)
        assert await service.wait(execution_id) == "succeeded"
        tree = await store.execution_tree(execution_id)
    finally:
        await service.shutdown()
        await store.close()
    assert tree["outputs"] == {"got": {"live": True}}
    assert [node.get("pinned") for node in tree["children"]] == [False, False]
