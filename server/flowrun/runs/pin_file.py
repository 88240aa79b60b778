"""What a pin file holds (`flowrun.runs.pins`); apart, so that a run without pin files
never imports pydantic."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class PinFile(BaseModel):
    """The file's content (camelCase keys, as written)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    node: str
    hash: str | None = None  # the node's definition hash when it was pinned
    output: Any = None
    from_execution: str | None = None
    pinned_at: str
