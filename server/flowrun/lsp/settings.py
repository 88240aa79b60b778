"""Daemon settings: `initializationOptions`, then `workspace/configuration` (section `flowrun`).

Both may send the settings flat (`{"python": ...}`) or under a `flowrun` key, as VS Code's
`getConfiguration("flowrun")` and a raw settings object would.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from flowrun.history.location import history_location

log = logging.getLogger(__name__)

DEFAULT_MAX_CONCURRENT_RUNS = 4


class Settings(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )

    python: str | None = None
    history_path: str | None = None
    history_url: str | None = None  # postgresql://… (a team's shared history): wins over the path
    max_concurrent_runs: int = Field(default=DEFAULT_MAX_CONCURRENT_RUNS, ge=1, le=64)
    pause_on_failure: bool = False  # every run from the editor pauses on a failure (issue 17)

    def merged(self, raw: Any) -> Settings:
        """These settings updated by the non-empty values of `raw`; a bad value is ignored."""
        values = _unwrap(raw)
        merged = self
        for name, field in Settings.model_fields.items():
            for key in (name, field.alias):
                value = values.get(key) if key is not None else None
                if value in (None, "") or (isinstance(value, str) and "${" in value):
                    continue  # unset, or a raw `${workspaceFolder}` the client did not expand
                try:
                    merged = Settings.model_validate({**merged.model_dump(), name: value})
                except ValidationError:
                    log.warning("Ignoring the setting flowrun.%s=%r", key, value)
        return merged

    def history_file(self, root: Path | None) -> Path | str:
        """Where the history lives: the one rule the CLI uses too (`history_location`); a
        PostgreSQL URL (`flowrun.historyUrl`) is returned as it is."""
        return history_location(root, self.history_url or self.history_path)


def _unwrap(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    inner = raw.get("flowrun")
    if isinstance(inner, dict):
        return inner
    return {key.removeprefix("flowrun."): value for key, value in raw.items()}
