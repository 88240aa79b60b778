"""Reading a node's `with` where several node types read it the same way."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from flowrun_engine.errors import execution_error

T = TypeVar("T")


def provider_of(
    params: dict[str, Any], table: Mapping[str, T], node_id: str, kind: str, alternative: str = ""
) -> T:
    """The entry of `table` that the node's `provider` names (`kind`: "llm", "agent")."""
    name = params.get("provider")
    entry = table.get(name) if isinstance(name, str) else None
    if entry is None:
        raise execution_error(
            f"node `{node_id}`: unknown {kind} provider {json.dumps(name)}",
            f"set `provider` to one of: {', '.join(table)}{alternative}",
        )
    return entry
