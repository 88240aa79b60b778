"""What a workflow file's name says: its default workflow id."""

from __future__ import annotations

from pathlib import Path


def id_from_file_name(path: Path) -> str:
    """`deploy` for `deploy.workflow.yml`: the id of a workflow without `id:`."""
    name = path.name
    for suffix in (".workflow.yml", ".workflow.yaml", ".yml", ".yaml"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem
