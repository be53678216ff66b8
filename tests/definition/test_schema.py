import json

from leadgate.definition.schema import SCHEMA_PATH, definition_json_schema


def test_committed_schema_is_generated_from_the_models() -> None:
    assert json.loads(SCHEMA_PATH.read_text()) == json.loads(json.dumps(definition_json_schema(), sort_keys=True))


def test_schema_describes_the_top_level_keys() -> None:
    props = definition_json_schema()["properties"]
    assert {"schema", "name", "version", "fit", "engagement", "require", "disqualify", "qualify"} <= set(props)
