"""The models' validator, precompiled: the pydantic-core schema of `Workflow`, generated from
the models into `workflow.core-schema.json`, so that checking a file imports pydantic-core
only, not pydantic, and builds no model (that import and build were most of a cold
`flowrun validate` and of a file's first run).

It is the same schema run by the same pydantic-core, so it reports exactly the errors of
`Workflow.model_validate`; only its result differs: plain `Record`s instead of models. The
validator uses its errors; the typed `Workflow` is made when someone asks for it
(`ValidationResult.workflow`). With another pydantic-core than the one the file was generated
with (a user's pydantic may be newer), the models' own validator is used instead.

    python -m flowrun.spec.core_schema      # after changing the models (a test says when)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.spec import checks

if TYPE_CHECKING:
    from pydantic_core import SchemaValidator

SCHEMA_FILE = Path(__file__).with_name("workflow.core-schema.json")
# keys of a core schema that only serialization and the JSON Schema read
_UNUSED_KEYS = frozenset({"metadata", "serialization"})
_validator: Any = None


class Record:
    """A validated mapping of the precompiled validator: the model's fields as attributes."""


_NAMES: dict[str, Any] = {"record": Record, "list": list, "dict": dict}


def validator() -> SchemaValidator:
    """The validator of a workflow's top-level mapping (the `x-` keys left out)."""
    global _validator
    if _validator is None:
        import pydantic_core

        stored = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"), object_hook=_revive)
        if stored["pydantic_core"] == pydantic_core.__version__:
            _validator = pydantic_core.SchemaValidator(stored["schema"])
        else:  # pragma: no cover - another pydantic than the one of this checkout
            from flowrun.spec.models import Workflow

            _validator = Workflow.__pydantic_validator__
    return _validator  # type: ignore[no-any-return]


def _revive(value: dict[str, Any]) -> Any:
    name = value.get("$py") if len(value) == 1 else None
    if name is None:
        return value
    return _NAMES.get(name) or getattr(checks, name)


def generate() -> dict[str, Any]:
    """The stored form of the models' core schema (imports the models)."""
    import pydantic_core

    from flowrun.spec.models import Workflow

    return {
        "pydantic_core": pydantic_core.__version__,
        "schema": _storable(Workflow.__pydantic_core_schema__),
    }


def _storable(value: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(value, dict):
        stored = {k: _storable(v) for k, v in value.items() if k not in _UNUSED_KEYS}
        if isinstance(stored.get("ref"), str):  # `module.Model:<id of the class>`: per process
            stored["ref"] = stored["ref"].partition(":")[0]
        return stored
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    if isinstance(value, type) and issubclass(value, BaseModel):
        return {"$py": "record"}
    if value is list or value is dict:
        return {"$py": value.__name__}
    if callable(value):
        name = getattr(value, "__name__", "")
        if getattr(checks, name, None) is not value:
            raise ValueError(f"{value!r} is not in flowrun.spec.checks: move it there")
        return {"$py": name}
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValueError(f"cannot store {value!r} in the core schema")
    return value


def main() -> None:
    SCHEMA_FILE.write_text(json.dumps(generate(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()
