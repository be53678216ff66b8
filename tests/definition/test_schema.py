"""The JSON Schema: generated from the models, committed, never drifting."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from leadgate.definition.durations import parse_duration
from leadgate.definition.schema import SCHEMA_PATH, definition_json_schema, render_schema, write_schema


def test_committed_schema_is_the_generated_one() -> None:
    """If this fails, the models changed: run ``python -m leadgate.definition.schema`` and commit the file."""
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema()


def test_write_schema_writes_what_render_gives(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "definition.schema.json"
    write_schema(path)
    assert json.loads(path.read_text(encoding="utf-8")) == definition_json_schema()


def test_schema_header() -> None:
    schema = definition_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://leadgate.dev/schema/definition-1.json"
    assert schema["title"] == "leadgate MQL definition (schema 1)"


def test_keys_are_written_as_in_yaml() -> None:
    schema = definition_json_schema()
    defs = schema["$defs"]
    assert {"schema", "name", "version", "fit", "engagement", "require", "disqualify", "qualify"} <= set(
        schema["properties"]
    )
    assert schema["properties"]["schema"]["const"] == 1
    assert {"in", "property", "not_in"} <= set(defs["Predicate"]["properties"])
    assert set(defs["Levels"]["properties"]) == {"1", "2", "3"}
    assert "not" in defs["NotCond"]["properties"]
    assert all(d.get("additionalProperties") is False for d in defs.values() if d.get("type") == "object")


def test_list_references_take_only_a_name() -> None:
    """``values`` is filled in by the loader; the schema (like the loader) does not accept it in YAML."""
    assert set(definition_json_schema()["$defs"]["ListRef"]["properties"]) == {"list"}


def _durations(schema: dict[str, Any]) -> dict[str, Any]:
    within = schema["$defs"]["EngagementRule"]["properties"]["within"]
    return next(option for option in within["anyOf"] if "anyOf" in option)


def test_durations_are_described_as_written() -> None:
    """Durations become seconds in the model; the schema describes the YAML: '7d' or a number of seconds from
    a microsecond to 100 years."""
    string, number = _durations(definition_json_schema())["anyOf"]
    assert string["type"] == "string" and number == {"type": "number", "minimum": 1e-6, "maximum": 36525 * 86400}
    half_life = definition_json_schema()["$defs"]["Decay"]["properties"]["half_life"]
    assert any("[nN][oO][nN][eE]" in option.get("pattern", "") for option in half_life["anyOf"][0]["anyOf"])


def test_the_duration_pattern_agrees_with_the_parser() -> None:
    pattern = re.compile(_durations(definition_json_schema())["anyOf"][0]["pattern"])
    for text in ["90s", "30m", "12h", "7d", "2w", "1d12h", " 1.5h ", "7D"]:
        assert pattern.search(text) and parse_duration(text) > 0
    for text in ["", "7", "7x", "d7", "-1d", "1.d"]:
        assert not pattern.search(text)
