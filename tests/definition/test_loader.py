"""The loader: every problem with file:line:col, key, found and expected; lists resolved; YAML kept safe."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from leadgate.definition import Definition, load_definition, parse_definition
from leadgate.definition.loader import MAX_NODES
from leadgate.definition.model import Predicate
from leadgate.errors import DefinitionError, Problem

HEAD = "schema: 1\nname: t\nversion: 1\n"  # lines 1-3 of every document below
QUALIFY = "qualify: {threshold: 1}\n"


def problems(text: str) -> list[Problem]:
    with pytest.raises(DefinitionError) as info:
        parse_definition(text, filename="def.yaml")
    return info.value.problems


def one(text: str) -> Problem:
    [problem] = problems(text)
    return problem


def where(p: Problem) -> tuple[str | None, int | None, int | None, str | None]:
    return p.file, p.line, p.col, p.key


# -- valid documents ------------------------------------------------------------------------------------


def test_a_valid_definition_loads() -> None:
    defn = parse_definition(
        HEAD
        + dedent("""\
            lists:
              students: [".edu", ".ac.uk"]
            fit:
              - id: student
                when: {trait: email_domain, ends_with: {list: students}}
                points: -50
            engagement:
              - {id: demo, event: demo_requested, within: 30d, points: 25, per: once}
            levels: {1: 50, 2: 30, 3: 10}
            qualify: {threshold: 10}
        """)
    )
    assert isinstance(defn, Definition)
    assert defn.name == "t" and defn.qualify.threshold == 10
    assert isinstance(defn.fit[0].when, Predicate) and defn.fit[0].when.value == (".edu", ".ac.uk")
    assert defn.engagement[0].within == 30 * 86400
    assert (defn.levels.l1, defn.levels.l2, defn.levels.l3) == (50, 30, 10)


def test_yaml_merge_keys_and_aliases() -> None:
    defn = parse_definition(
        HEAD
        + dedent("""\
            engagement:
              - &visit {id: pricing, event: page_view, points: 5, within: 7d}
              - <<: *visit
                id: pricing_long
                within: 30d
            qualify: {threshold: 1}
        """)
    )
    assert [(r.id, r.event, r.within) for r in defn.engagement] == [
        ("pricing", "page_view", 7 * 86400),
        ("pricing_long", "page_view", 30 * 86400),
    ]


def test_a_bare_equals_sign_is_text() -> None:
    defn = parse_definition(HEAD + "fit:\n  - {id: a, when: {trait: op, equals: =}, points: 1}\n" + QUALIFY)
    assert defn.fit[0].when.value == "="  # type: ignore[union-attr]


# -- the cases every error message is held to exactly ---------------------------------------------------


def test_unknown_key_names_its_position_and_the_allowed_keys() -> None:
    p = one(HEAD + "qualify:\n  threshold: 10\n  treshold: 20\n")
    assert where(p) == ("def.yaml", 6, 3, "qualify.treshold")
    assert p.message == "unknown key 'treshold'"
    assert p.found == "'treshold'"
    assert p.expected == "one of the keys: threshold, min_fit, min_engagement, paths"


def test_unknown_key_inside_a_condition_lists_the_predicate_keys() -> None:
    p = one(HEAD + "fit:\n  - id: a\n    when: {not: {trait: title, matchez: x}}\n    points: 1\n" + QUALIFY)
    assert where(p) == ("def.yaml", 6, 32, "fit[0].when.not.matchez")
    assert p.expected is not None
    assert p.expected.startswith("one of the keys: trait, property, equals, not_equals, in, not_in, between")


def test_duplicate_key_names_both_positions() -> None:
    p = one(HEAD + "qualify:\n  threshold: 10\n  min_fit: 5\n  threshold: 20\n")
    assert where(p) == ("def.yaml", 7, 3, "qualify.threshold")
    assert p.message == "duplicate key"
    assert p.found == "'threshold' again"
    assert p.expected == "each key once; 'threshold' is first at line 5, column 3"


def test_wrong_type() -> None:
    p = one(HEAD + "fit:\n  - id: a\n    when: {trait: t, exists: true}\n    points: lots\n" + QUALIFY)
    assert where(p) == ("def.yaml", 7, 13, "fit[0].points")
    assert (p.message, p.found, p.expected) == ("wrong type", "'lots'", "a number")


def test_bad_regex_points_at_the_pattern() -> None:
    p = one(HEAD + "fit:\n  - id: a\n    when: {trait: title, matches: '(vp|director'}\n    points: 1\n" + QUALIFY)
    assert where(p) == ("def.yaml", 6, 35, "fit[0].when.matches")
    assert p.found == "'(vp|director'"
    assert p.expected == "invalid regular expression '(vp|director': missing ), unterminated subpattern at position 0"


def test_non_portable_regex_says_why() -> None:
    p = one(HEAD + "fit:\n  - id: a\n    when: {trait: title, matches: '\\bvp'}\n    points: 1\n" + QUALIFY)
    assert where(p) == ("def.yaml", 6, 35, "fit[0].when.matches")
    assert p.found == "'\\bvp'"
    assert p.expected == "word boundaries (\\b) mean different things across engines; not supported"


def test_unknown_list_name() -> None:
    text = HEAD + dedent("""\
        lists:
          students: ['.edu']
          rivals: [rival.io]
        fit:
          - id: a
            when: {trait: email_domain, ends_with: {list: studnts}}
            points: 1
    """)
    p = one(text + QUALIFY)
    assert where(p) == ("def.yaml", 9, 51, "fit[0].when.ends_with.list")
    assert (p.message, p.found, p.expected) == ("unknown list", "'studnts'", "one of: rivals, students")


def test_bad_duration() -> None:
    p = one(HEAD + "engagement:\n  - id: e\n    event: x\n    within: 7x\n    points: 1\n" + QUALIFY)
    assert where(p) == ("def.yaml", 7, 13, "engagement[0].within")
    assert p.message == "'7x' is not a duration"
    assert p.found == "'7x'"
    assert p.expected == "forms like '90s', '30m', '12h', '7d', '2w'"


def test_unsupported_schema_version_is_the_only_problem_reported() -> None:
    p = one("schema: 2\nname: T\nversion: 1\nfrobnicate: 1\n")
    assert where(p) == ("def.yaml", 1, 9, "schema")
    assert (p.message, p.found) == ("unsupported schema version", "2")
    assert p.expected == "schema: 1 (this leadgate reads schema versions: 1)"


def test_yaml_syntax_error_has_a_position() -> None:
    p = one(HEAD + "qualify: {threshold: 1\n")
    assert where(p) == ("def.yaml", 5, 1, None)
    assert p.message == (
        "not valid YAML: expected ',' or '}', but got '<stream end>' "
        "(while parsing a flow mapping at line 4, column 10)"
    )


def test_the_problem_text() -> None:
    p = one(HEAD + "qualify:\n  threshold: 10\n  treshold: 20\n")
    assert str(p) == (
        "def.yaml:6:3: qualify.treshold: unknown key 'treshold' "
        "(found 'treshold'; expected one of the keys: threshold, min_fit, min_engagement, paths)"
    )


# -- more shapes of error ---------------------------------------------------------------------------------


def test_all_problems_are_reported_together_in_document_order() -> None:
    text = HEAD + dedent("""\
        fit:
          - id: a
            when: {trait: t, bogus: 1}
            points: x
        qualify: {threshold: 1, nope: 2}
    """)
    assert [(p.line, p.key) for p in problems(text)] == [
        (6, "fit[0].when.bogus"),
        (7, "fit[0].points"),
        (8, "qualify.nope"),
    ]


def test_missing_required_keys_point_at_the_mapping() -> None:
    found = [(p.line, p.col, p.key, p.message) for p in problems("schema: 1\nname: t\n")]
    assert found == [
        (1, 1, "version", "missing required key 'version'"),
        (1, 1, "qualify", "missing required key 'qualify'"),
    ]


def test_a_union_is_reported_once_naming_every_accepted_type() -> None:
    p = one(HEAD + "fit:\n  - {id: a, when: {trait: t, in: 5}, points: 1}\n" + QUALIFY)
    assert where(p) == ("def.yaml", 5, 34, "fit[0].when.in")
    assert (p.message, p.found, p.expected) == ("wrong type", "5", "a list or a {list: ...} mapping")


def test_a_union_member_meant_by_its_shape_is_the_one_reported() -> None:
    """A mapping where a list or ``{file: ...}`` goes is reported as a ``{file: ...}`` mapping, not a list."""
    missing, unknown = problems(HEAD + "lists:\n  rivals: {fil: rivals.txt}\n" + QUALIFY)
    assert (missing.line, missing.col, missing.key) == (5, 11, "lists.rivals.file")
    assert missing.message == "missing required key 'file'"
    assert (unknown.line, unknown.col, unknown.key) == (5, 12, "lists.rivals.fil")
    assert unknown.expected == "one of the keys: file"


def test_an_invalid_name() -> None:
    p = one("schema: 1\nname: My Definition\nversion: 1\n" + QUALIFY)
    assert where(p) == ("def.yaml", 2, 7, "name")
    assert p.expected == "a name: a lower-case letter, then lower-case letters, digits or _ (at most 40 characters)"


def test_an_invalid_mapping_key_points_at_the_key() -> None:
    p = one(HEAD + "groups:\n  Content: {cap: 10}\n" + QUALIFY)
    assert (p.line, p.col, p.key, p.message, p.found) == (5, 3, "groups.Content", "invalid name", "'Content'")


def test_a_model_validator_points_at_the_key_it_is_about() -> None:
    p = one(HEAD + "fit:\n  - {id: a, when: {trait: n, between: [10, 1]}, points: 1}\n" + QUALIFY)
    assert where(p) == ("def.yaml", 5, 39, "fit[0].when.between")
    assert p.expected == "between: the lower bound is above the upper bound"


def test_a_model_validator_about_the_whole_mapping_points_at_it() -> None:
    p = one(HEAD + "fit:\n  - {id: a, when: {trait: t}, points: 1}\n" + QUALIFY)
    assert where(p) == ("def.yaml", 5, 19, "fit[0].when")
    assert p.found == "{trait: t}"
    assert p.expected is not None and p.expected.startswith("give exactly one operator of equals, not_equals")


def test_definition_wide_checks_point_at_what_they_name() -> None:
    repeated = HEAD + dedent("""\
        fit:
          - {id: senior, when: {trait: title, exists: true}, points: 1}
          - {id: senior, when: {trait: seniority, exists: true}, points: 1}
    """)
    p = one(repeated + QUALIFY)
    assert where(p) == ("def.yaml", 6, 10, "fit[1].id")
    assert (p.found, p.expected) == ("'senior'", "rule ids must be unique; repeated: senior")

    signal = HEAD + "qualify:\n  paths:\n    - name: hot\n      when: {signal: nosuch}\n"
    p = one(signal)
    assert where(p) == ("def.yaml", 7, 22, "qualify.paths[0].when.signal")
    assert p.expected == "signal 'nosuch' names no fit or engagement rule"


def test_account_terms_need_an_account_section_and_point_at_their_use() -> None:
    p = one(HEAD + "qualify:\n  paths:\n    - name: abm\n      when: {all: [{account_qualified: true}]}\n")
    assert where(p) == ("def.yaml", 7, 40, "qualify.paths[0].when.all[0].account_qualified")
    assert p.expected == "'account_qualified' needs an 'account:' section (threshold and/or min_engaged_leads)"
    p = one(HEAD + "require:\n  - reason: hot\n    when: {score: account_engagement, gte: 50}\n" + QUALIFY)
    assert where(p) == ("def.yaml", 6, 19, "require[0].when.score")
    p = one(HEAD + "account: {engaged_at: 10}\n" + QUALIFY)
    assert where(p)[:3] == ("def.yaml", 4, 10)
    assert p.expected == "give a threshold on the account's engagement, min_engaged_leads, or both"


def test_account_section_and_predicted_conditions_load() -> None:
    defn = parse_definition(
        HEAD
        + dedent("""            account: {threshold: 80, min_engaged_leads: 2, engaged_at: 5}
            qualify:
              paths:
                - name: abm
                  when: {all: [{account_qualified: true}, {score: account_engagement, gte: 90}]}
                - name: likely
                  when: {predicted: "sql v2", gte: 0.6}
        """)
    )
    assert defn.account is not None and defn.account.min_engaged_leads == 2
    assert defn.models() == ["sql v2"]


def test_a_probability_outside_zero_to_one() -> None:
    p = one(HEAD + "qualify:\n  paths:\n    - name: p\n      when: {predicted: m, gte: 60}\n")
    assert where(p) == ("def.yaml", 7, 33, "qualify.paths[0].when.gte")
    assert (p.found, p.expected) == ("60", "less than or equal to 1")


def test_a_model_cannot_give_fit_points() -> None:
    p = one(HEAD + "fit:\n  - {id: m, when: {predicted: m, gte: 0.5}, points: 5}\n" + QUALIFY)
    assert p.key == "fit[0]" and p.expected is not None and "tests traits only" in p.expected


def test_a_field_tested_as_two_types() -> None:
    text = HEAD + dedent("""\
        fit:
          - {id: a, when: {trait: size, gt: 10}, points: 1}
          - {id: b, when: {trait: size, equals: large}, points: 1}
    """)
    p = one(text + QUALIFY)
    assert where(p) == ("def.yaml", 6, 27, "fit[1].when.trait")
    assert p.expected == "'size' is tested both as a number and as a string"


# -- YAML kept safe ----------------------------------------------------------------------------------------


def test_tags_are_refused() -> None:
    p = one(HEAD + "description: !!python/object/apply:os.system ['true']\n" + QUALIFY)
    assert (p.line, p.col, p.key) == (4, 14, "description")
    assert p.message == "unsupported YAML tag tag:yaml.org,2002:python/object/apply:os.system"


def test_numbers_must_be_finite() -> None:
    p = one(HEAD + "qualify: {threshold: .inf}\n")
    assert (p.line, p.col, p.key, p.message, p.found) == (4, 22, "qualify.threshold", "not a finite number", ".inf")


# -- no coercion between types (strict models) -------------------------------------------------------------
LAX = [  # (document after HEAD minus its version line, line, col, key, found, expected)
    ("version: yes\n", 3, 10, "version", "true", "a whole number or text"),
    ("fit:\n  - {id: a, when: {trait: n, exists: true}, points: true}\n", 5, 53, "fit[0].points", "true", "a number"),
    ("fit:\n  - {id: a, when: {trait: n, gt: '5'}, points: 1}\n", 5, 34, "fit[0].when.gt", "'5'", "a number"),
    ("fit:\n  - {id: a, when: {trait: n, between: ['1', 5]}, points: 1}\n", 5, 40, "fit[0].when.between[0]", "'1'",
     "a number"),
    ("fit:\n  - {id: a, when: {trait: n, exists: true}, points: 1e400}\n", 5, 53, "fit[0].points", "'1e400'",
     "a number"),
    ("engagement:\n  - {id: a, event: x, points: 1, min_count: 2.0}\n", 5, 45, "engagement[0].min_count", "2.0",
     "a whole number"),
    ("engagement:\n  - {id: a, event: x, points: 1, product: 1}\n", 5, 43, "engagement[0].product", "1",
     "true or false"),
    ("qualify: {threshold: '10'}\n", 4, 22, "qualify.threshold", "'10'", "a number"),
    ("qualify: {min_fit: false}\n", 4, 20, "qualify.min_fit", "false", "a number"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "line", "col", "key", "found", "expected"), LAX)
def test_values_of_the_wrong_type_are_not_converted(
    body: str, line: int, col: int, key: str, found: str, expected: str
) -> None:
    """``version: yes`` is not 1, ``points: true`` not 1.0, ``gt: "5"`` not 5.0 and ``points: 1e400`` (text to
    YAML) not infinity: each is a problem at its position."""
    head = HEAD.replace("version: 1\n", "") if body.startswith("version") else HEAD
    text = head + body + ("" if "qualify" in body else QUALIFY)
    p = one(text)
    assert (p.line, p.col, p.key, p.message, p.found, p.expected) == (line, col, key, "wrong type", found, expected)


def test_a_whole_number_stands_for_a_number() -> None:
    defn = parse_definition(
        HEAD + "fit:\n  - {id: a, when: {trait: n, between: [1, 2.5]}, points: 5}\nqualify: {threshold: 10}\n"
    )
    assert defn.fit[0].points == 5.0 and defn.fit[0].when.between == (1.0, 2.5)  # type: ignore[union-attr]
    assert defn.qualify.threshold == 10 and defn.version == 1


def test_the_cli_reports_wrong_types_with_positions_and_exit_code_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from leadgate.cli import main

    path = tmp_path / "lax.yaml"
    path.write_text(HEAD + "fit:\n  - {id: a, when: {trait: n, exists: true}, points: 1e400}\n" + QUALIFY)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:5:53: fit[0].points: wrong type (found '1e400'; expected a number)" in result.output


def test_sql_has_no_literal_for_an_infinite_number() -> None:
    from leadgate.compiler.sqlbuild import num

    for value in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(ValueError, match="not a finite number"):
            num(value)


# -- durations are bounded ---------------------------------------------------------------------------------
DURATIONS = [  # (rule text after 'event: x, points: 1, ', col, key, found, message, expected)
    ("within: 999999999d", 42, "within", "'999999999d'", "'999999999d' is too long",
     "a duration of at most 100 years (36525d)"),
    ("within: 1.0e+308", 42, "within", "1e+308", "1e+308 seconds is too long",
     "a duration of at most 100 years (36525d)"),
    ("half_life: 36526d", 45, "half_life", "'36526d'", "'36526d' is too long",
     "a duration of at most 100 years (36525d)"),
    ("half_life: 0.0000001", 45, "half_life", "1e-07", "1e-07 seconds is too short",
     "a duration of at least a microsecond (0.000001s)"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "col", "key", "found", "message", "expected"), DURATIONS)
def test_durations_are_bounded(rule: str, col: int, key: str, found: str, message: str, expected: str) -> None:
    p = one(HEAD + "engagement:\n  - {id: a, event: x, points: 1, " + rule + "}\n" + QUALIFY)
    assert (p.line, p.col, p.key) == (5, col, f"engagement[0].{key}")
    assert (p.message, p.found, p.expected) == (message, found, expected)


def test_the_longest_durations_compile_and_score() -> None:
    from leadgate.compiler import compile_definition

    defn = parse_definition(
        HEAD + "decay: {half_life: 36525d}\nengagement:\n"
        "  - {id: a, event: x, points: 1, within: 36525d}\n"
        "  - {id: b, event: x, points: 1, within: 52596000m, half_life: 0.000001s, per: once}\n" + QUALIFY
    )
    assert defn.engagement[0].within == defn.engagement[1].within == 36525 * 86400
    for dialect in ("sqlite", "duckdb", "postgres", "spark"):
        assert "SELECT" in compile_definition(defn, dialect=dialect, as_of="2026-11-01T00:00:00Z").sql()


def test_a_boolean_key_asks_to_be_quoted() -> None:
    p = one(HEAD + "yes: 1\n" + QUALIFY)
    assert (p.line, p.col, p.message, p.found) == (4, 1, "a mapping key must be text", "'yes'")
    assert p.expected == "a name (quote 'yes': YAML reads it as true)"


def test_recursive_aliases_are_refused() -> None:
    p = one(HEAD + "fit: &rules [*rules]\n" + QUALIFY)
    assert (p.line, p.key, p.message) == (4, "fit[0]", "an alias refers to a node that contains it")


def test_an_alias_bomb_stops_at_the_node_limit() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    p = one(HEAD + "\n".join(lines) + "\n" + QUALIFY)
    assert p.message == f"the document has more than {MAX_NODES} values (with aliases expanded)"


def test_an_empty_document() -> None:
    assert one("").message == "the definition is empty"
    assert one("- a\n").message == "a definition is a mapping"


# -- lists -------------------------------------------------------------------------------------------------


def rivals_definition(lists: str) -> str:
    return HEAD + lists + "disqualify:\n  - reason: competitor\n    when: {trait: email_domain, in: {list: rivals}}\n"


def test_list_from_a_file_beside_the_definition(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "rivals.txt").write_text("# competitors\nrival.io\n\n  competiq.io  # second\nc#.dev\n")
    (tmp_path / "def.yaml").write_text(rivals_definition("lists:\n  rivals: {file: lists/rivals.txt}\n") + QUALIFY)
    defn = load_definition(tmp_path / "def.yaml")
    assert defn.disqualify[0].when.value == ("rival.io", "competiq.io", "c#.dev")  # type: ignore[union-attr]


def test_load_definition_with_text_reads_lists_beside_the_source(tmp_path: Path) -> None:
    (tmp_path / "rivals.txt").write_text("rival.io\n")
    text = rivals_definition("lists:\n  rivals: {file: rivals.txt}\n") + QUALIFY
    defn = load_definition(tmp_path / "not_written.yaml", text=text)
    assert defn.disqualify[0].when.value == ("rival.io",)  # type: ignore[union-attr]


def test_missing_list_file_has_a_position_and_is_not_reported_again_at_its_uses(tmp_path: Path) -> None:
    (tmp_path / "def.yaml").write_text(rivals_definition("lists:\n  rivals: {file: nowhere.txt}\n") + QUALIFY)
    with pytest.raises(DefinitionError) as info:
        load_definition(tmp_path / "def.yaml")
    [p] = info.value.problems
    assert where(p) == (str(tmp_path / "def.yaml"), 5, 18, "lists.rivals.file")
    assert (p.message, p.found) == ("cannot read list file", "'nowhere.txt'")
    assert p.expected == f"a readable file (No such file or directory: {tmp_path / 'nowhere.txt'})"


def test_list_files_need_a_definition_file() -> None:
    """Text with no location (a definition pushed over HTTP) cannot make the loader read local files."""
    p = one(rivals_definition("lists:\n  rivals: {file: /etc/hostname}\n") + QUALIFY)
    assert where(p) == ("def.yaml", 5, 18, "lists.rivals.file")
    assert p.message == "a list file needs the definition's own location"


def test_list_values_cannot_be_written_in_the_reference() -> None:
    text = HEAD + "lists:\n  a: [x]\nfit:\n  - {id: a, when: {trait: t, in: {list: a, values: [y]}}, points: 1}\n"
    p = one(text + QUALIFY)
    assert (p.line, p.col, p.key, p.message) == (7, 44, "fit[0].when.in.values", "unknown key 'values'")
    assert p.expected == "one of the keys: list"


def test_unknown_list_when_no_lists_are_defined() -> None:
    p = one(rivals_definition("") + QUALIFY)
    assert (p.key, p.expected) == ("disqualify[0].when.in.list", "one of: (no lists are defined under 'lists')")


# -- files -------------------------------------------------------------------------------------------------


def test_missing_definition_file(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as info:
        load_definition(tmp_path / "absent.yaml")
    [p] = info.value.problems
    assert (p.file, p.line, p.message) == (str(tmp_path / "absent.yaml"), None, "cannot read the definition")
    assert p.expected == "a readable file (No such file or directory)"


def test_a_definition_that_is_not_text(tmp_path: Path) -> None:
    (tmp_path / "def.yaml").write_bytes(b"schema: 1\n\xff\xfe\n")
    with pytest.raises(DefinitionError) as info:
        load_definition(tmp_path / "def.yaml")
    assert info.value.problems[0].message == "the definition is not UTF-8 text"
