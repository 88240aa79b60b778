"""Pin files (issue 17): `.flowrun/pins/<workflow-id>/<node-id>.json`, a node's output pinned
from an execution ("Pin output" in the Executions view), a reviewable JSON file beside the
history (`.flowrun/` of the workspace).

A test-mode run gives a pinned node its file's output as `pin:` in the workflow would (the
node does not run; `pinned` in its events and the tree); a `pin:` in the file wins over a
pin file; production never uses them (`RunService` applies them in `test` mode only). The
file keeps the node's definition hash at pin time: when the node's current hash differs, the
editor warns `stale-pin` (the pin answers a definition that is gone).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.history.location import history_location

if TYPE_CHECKING:
    from flowrun.runs.pin_file import PinFile

PINS = "pins"


def pins_folder(workflow_file: Path, workflow_id: str) -> Path:
    """`<workspace>/.flowrun/pins/<workflow-id>` (the workspace of the history)."""
    location = history_location(workflow_file)
    flowrun_dir = location.parent if isinstance(location, Path) else workflow_file.parent
    return flowrun_dir / PINS / workflow_id


def pin_path(workflow_file: Path, workflow_id: str, node_id: str) -> Path:
    return pins_folder(workflow_file, workflow_id) / f"{node_id}.json"


def read_pins(workflow_file: Path, workflow_id: str) -> dict[str, PinFile]:
    """The pin files of the workflow by node id; a file that is not a pin is left out."""
    pins: dict[str, PinFile] = {}
    folder = pins_folder(workflow_file, workflow_id)
    if not folder.is_dir():  # every test-mode run asks: no pydantic import for no pins
        return pins
    from pydantic import ValidationError

    from flowrun.runs.pin_file import PinFile

    for path in sorted(folder.glob("*.json")):
        try:
            pin = PinFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, ValidationError):
            continue
        if pin.node == path.stem:
            pins[pin.node] = pin
    return pins


def write_pin(
    workflow_file: Path,
    workflow_id: str,
    node_id: str,
    *,
    output: Any,
    node_hash: str | None,
    from_execution: str | None,
) -> Path:
    """Write (or replace) the node's pin file; its path."""
    from flowrun.runs.pin_file import PinFile

    pin = PinFile(
        node=node_id,
        hash=node_hash,
        output=output,
        from_execution=from_execution,
        pinned_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    )
    path = pin_path(workflow_file, workflow_id, node_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(pin.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def remove_pin(workflow_file: Path, workflow_id: str, node_id: str) -> bool:
    """Delete the node's pin file; False when there was none."""
    path = pin_path(workflow_file, workflow_id, node_id)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def apply_pin_files(resolved: dict[str, Any], workflow_file: Path) -> list[str]:
    """Pin the resolved workflow's nodes that have a pin file and no `pin:` (in place); the
    nodes pinned. The nodes keep their definition hash."""
    workflow = resolved["workflow"]
    pins = read_pins(workflow_file, str(workflow["id"]))
    applied = []
    for stage in workflow.get("stages") or []:
        for node in stage["nodes"]:
            pin = pins.get(str(node["id"]))
            if pin is not None and not node.get("has_pin"):
                node["has_pin"], node["pin"] = True, pin.output
                applied.append(str(node["id"]))
    return applied


def stale_pins(workflow_file: Path, workflow_id: str, hashes: dict[str, str]) -> dict[str, PinFile]:
    """The pin files of nodes whose current definition hash is not the pinned one."""
    pins = read_pins(workflow_file, workflow_id)
    return {
        node_id: pin
        for node_id, pin in pins.items()
        if node_id in hashes and pin.hash is not None and pin.hash != hashes[node_id]
    }


def stale_message(node_id: str, workflow_id: str, pin: PinFile) -> str:
    """The `stale-pin` warning's text, the same in the editor and `flowrun validate`."""
    origin = f" from {pin.from_execution[:8]}" if pin.from_execution else ""
    return (
        f"`{node_id}` is pinned{origin} ({pin.pinned_at}) by "
        f".flowrun/pins/{workflow_id}/{node_id}.json, made for another definition of the "
        "node: test runs give it that older output."
    )
