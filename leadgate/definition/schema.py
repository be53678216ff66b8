"""The JSON Schema of definition files, generated from the models (never written by hand).

The committed copy, ``leadgate/schema/definition.schema.json``, is checked against this by a test; after
changing the models, regenerate it with ``python -m leadgate.definition.schema``.

Editors that use yaml-language-server (VS Code's YAML extension, for one) validate and complete a
definition whose first line names the file::

    # yaml-language-server: $schema=../leadgate/schema/definition.schema.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from leadgate.definition.model import SCHEMA_VERSION, Definition

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "definition.schema.json"
SCHEMA_ID = f"https://leadgate.dev/schema/definition-{SCHEMA_VERSION}.json"


def definition_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a definition file, keys as they are written in YAML (aliases)."""
    schema = Definition.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": f"leadgate MQL definition (schema {SCHEMA_VERSION})",
    }


def render_schema() -> str:
    """The schema as the committed file holds it: sorted keys, two-space indent, a final newline."""
    return json.dumps(definition_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_schema(), encoding="utf-8")


if __name__ == "__main__":
    write_schema()
    print(f"wrote {SCHEMA_PATH}")
