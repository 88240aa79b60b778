"""A command's WORKFLOW argument, a workflow id or the file that declares it (`cache clear`,
`unpin`)."""

from __future__ import annotations

from pathlib import Path


def workflow_id(value: str) -> str | None:
    """A workflow id as given, or the id of a workflow file (its `id:`, else its name); None
    for a `.yml`/`.yaml` path that is not a file."""
    path = Path(value)
    if path.suffix not in (".yml", ".yaml"):
        return value
    if not path.is_file():
        return None
    import yaml

    from flowrun.spec.file_names import id_from_file_name

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        data = None
    declared = data.get("id") if isinstance(data, dict) else None
    return str(declared) if isinstance(declared, str) and declared else id_from_file_name(path)
