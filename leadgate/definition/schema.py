"""The JSON Schema of definition files, generated from the models (never written by hand).

The committed copy, ``leadgate/schema/definition.schema.json``, is checked against this by a test.
Editors use it with a first line ``# yaml-language-server: $schema=<path or URL to the file>``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from leadgate.definition.model import Definition

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "definition.schema.json"


def definition_json_schema() -> dict[str, Any]:
    schema = Definition.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://leadgate.dev/schema/definition-1.json",
        **schema,
        "title": "leadgate MQL definition (schema 1)",
    }


def write_schema(path: Path = SCHEMA_PATH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(definition_json_schema(), indent=2, sort_keys=True) + "\n")
