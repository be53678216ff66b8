"""The loader: every problem with file:line:col, key, found and expected; lists resolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadgate.definition.loader import load_definition, parse_definition
from leadgate.errors import DefinitionError, Problem

HEAD = "schema: 1\nname: t\nversion: 1\n"


def problems(text: str, tmp_path: Path | None = None) -> list[Problem]:
    with pytest.raises(DefinitionError) as info:
        if tmp_path is None:
            parse_definition(text, filename="def.yaml")
        else:
            (tmp_path / "def.yaml").write_text(text)
            load_definition(tmp_path / "def.yaml")
    return info.value.problems


def test_valid_definition_loads() -> None:
    defn = parse_definition(HEAD + "qualify: {threshold: 10}\n")
    assert defn.name == "t" and defn.qualify.threshold == 10


def test_unknown_key_names_position_and_allowed_keys() -> None:
    [p] = problems(HEAD + "qualify:\n  threshold: 10\n  treshold: 20\n")
    assert (p.file, p.line, p.col, p.key) == ("def.yaml", 6, 3, "qualify.treshold")
    assert p.found == "'treshold'"
    assert p.expected is not None and "threshold" in p.expected and "min_fit" in p.expected


def test_unknown_key_inside_a_condition_lists_predicate_keys() -> None:
    text = HEAD + "fit:\n  - id: a\n    when: {trait: title, matchez: x}\n    points: 1\nqualify: {threshold: 1}\n"
    [p] = problems(text)
    assert (p.line, p.col, p.key) == (6, 26, "fit[0].when.matchez")
    assert p.expected is not None and "matches" in p.expected and "starts_with" in p.expected


def test_duplicate_key_names_both_positions() -> None:
    [p] = problems(HEAD + "qualify:\n  threshold: 10\n  threshold: 20\n")
    assert (p.line, p.col, p.key) == (6, 3, "qualify.threshold")
    assert "duplicate" in p.message and "line 5" in (p.expected or "")


def test_wrong_type() -> None:
    text = HEAD + "fit:\n  - id: a\n    when: {trait: t, exists: true}\n    points: lots\nqualify: {threshold: 1}\n"
    [p] = problems(text)
    assert (p.line, p.col, p.key, p.found) == (7, 13, "fit[0].points", "'lots'")
    assert p.expected is not None and "number" in p.expected


def test_bad_regex_and_non_portable_regex() -> None:
    text = HEAD + (
        "fit:\n  - id: a\n    when: {trait: t, matches: '(unclosed'}\n    points: 1\n"
        "  - id: b\n    when: {trait: t, matches: '\\bword'}\n    points: 1\nqualify: {threshold: 1}\n"
    )
    first, second = problems(text)
    assert (first.line, first.key) == (6, "fit[0].when") and "invalid regular expression" in (first.expected or "")
    assert (second.line, second.key) == (9, "fit[1].when") and "word boundaries" in (second.expected or "")


def test_unknown_list_name() -> None:
    text = HEAD + (
        "lists:\n  students: ['.edu']\nfit:\n  - id: a\n    when: {trait: email_domain, ends_with: {list: studnts}}\n"
        "    points: 1\nqualify: {threshold: 1}\n"
    )
    [p] = problems(text)
    assert p.key == "fit[0].when.ends_with.list" and p.found == "'studnts'" and "students" in (p.expected or "")
    assert (p.line, p.col) == (8, 51)


def test_bad_duration() -> None:
    text = HEAD + "engagement:\n  - id: e\n    event: x\n    within: 7x\n    points: 1\nqualify: {threshold: 1}\n"
    [p] = problems(text)
    assert (p.line, p.col, p.key, p.found) == (7, 13, "engagement[0].within", "'7x'")


def test_unsupported_schema_version() -> None:
    [p] = problems("schema: 2\nname: t\nversion: 1\nqualify: {threshold: 1}\n")
    assert p.key == "schema" and "schema: 1" in (p.expected or "")


def test_yaml_syntax_error_has_a_position() -> None:
    [p] = problems(HEAD + "qualify: {threshold: 1\n")
    assert p.line is not None and "not valid YAML" in p.message


def test_all_problems_reported_together() -> None:
    text = HEAD + "fit:\n  - id: a\n    when: {trait: t, bogus: 1}\n    points: x\nqualify: {threshold: 1, nope: 2}\n"
    assert len(problems(text)) == 3


def test_list_from_file_beside_the_definition(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "rivals.txt").write_text("# competitors\nrival.io\n\ncompetiq.io  # second\n")
    (tmp_path / "def.yaml").write_text(
        HEAD + "lists:\n  rivals: {file: lists/rivals.txt}\n"
        "disqualify:\n  - reason: competitor\n    when: {trait: email_domain, in: {list: rivals}}\n"
        "qualify: {threshold: 1}\n"
    )
    defn = load_definition(tmp_path / "def.yaml")
    assert defn.disqualify[0].when.value == ("rival.io", "competiq.io")  # type: ignore[union-attr]


def test_missing_list_file(tmp_path: Path) -> None:
    text = HEAD + "lists:\n  rivals: {file: nowhere.txt}\nqualify: {threshold: 1}\n"
    [p] = problems(text, tmp_path)
    assert p.key == "lists.rivals.file" and "nowhere.txt" in (p.found or "")


def test_missing_definition_file(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as info:
        load_definition(tmp_path / "absent.yaml")
    assert "cannot read definition" in str(info.value)


def test_cross_checks_signal_and_group_names() -> None:
    text = HEAD + (
        "engagement:\n  - {id: e, event: x, points: 1, group: nogroup}\n"
        "qualify:\n  paths:\n    - {name: p, when: {signal: nosuchrule}}\n"
    )
    [p] = problems(text)
    assert "nogroup" in (p.expected or "")


def test_problem_text_format() -> None:
    p = Problem("unknown key 'x'", file="d.yaml", line=3, col=5, key="qualify.x", found="'x'", expected="one of: a")
    assert str(p) == "d.yaml:3:5: qualify.x: unknown key 'x' (found 'x'; expected one of: a)"
