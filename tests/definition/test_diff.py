"""Definition diffs, rule by rule: every kind of change, how values are shown, the JSON shape."""

from __future__ import annotations

from pathlib import Path

from leadgate.definition.diff import Change, FieldChange, diff_definitions, format_duration, text
from leadgate.definition.loader import load_definition, parse_definition
from tests.conftest import EXAMPLES

OLD = """\
schema: 1
name: demo
version: 1
lists:
  students: [".edu", ".ac.uk"]
decay: {half_life: 30d}
groups:
  content: {cap: 30}
fit:
  - {id: senior, when: {trait: title, matches: "(vp|chief)", ignore_case: true}, points: 15}
  - {id: size, when: {trait: account.employees, between: [50, 250]}, points: 10}
engagement:
  - {id: demo, event: demo_requested, per: once, points: 25}
  - {id: pricing, event: page_view, where: [{property: path, starts_with: /pricing}],
     min_count: 3, within: 30d, per: once, points: 15}
  - {id: webinar, event: webinar_attended, points: 10, group: content}
require:
  - {reason: has_email, when: {trait: email, exists: true}}
disqualify:
  - {reason: student, when: {trait: email_domain, ends_with: {list: students}}}
  - {reason: competitor, when: {trait: email_domain, in: [rival.io]}}
qualify:
  threshold: 100
  paths:
    - {name: hand_raiser, when: {signal: demo}}
grades: {A: 40, B: 25, C: 10}
"""


def changed(text_: str, **replacements: str) -> str:
    for old, new in replacements.items():
        assert old in text_, old
        text_ = text_.replace(old, new)
    return text_


def diff(new: str, old: str = OLD):  # type: ignore[no-untyped-def]
    return diff_definitions(parse_definition(old, filename="old.yaml"), parse_definition(new, filename="new.yaml"))


def find(d, section: str, key: str) -> Change:  # type: ignore[no-untyped-def]
    return next(c for c in d.changes if c.section == section and c.key == key)


def test_identical_definitions_have_no_changes() -> None:
    d = diff(OLD)
    assert d.identical and d.changes == []
    assert d.lines()[-1] == "no changes"


def test_points_windows_counts_and_per() -> None:
    new = changed(
        OLD,
        **{
            "min_count: 3, within: 30d, per: once, points: 15}": "min_count: 2, within: 14d, points: 20}",
            "points: 15}\n  - {id: size": "points: 20}\n  - {id: size",
        },
    )
    d = diff(new)
    pricing = find(d, "engagement", "pricing")
    assert pricing.kind == "changed"
    assert {f.field: (f.old, f.new) for f in pricing.fields} == {
        "points": (15, 20),
        "per": ("once", "occurrence"),  # the default is spelled out when a change goes to it
        "within": ("30d", "14d"),
        "min_count": (3, 2),
    }
    assert find(d, "fit", "senior").fields == (FieldChange("points", 15, 20),)


def test_conditions_hard_rules_paths_and_thresholds() -> None:
    new = changed(
        OLD,
        **{
            '"(vp|chief)"': '"(vp|chief|head)"',
            "  - {reason: competitor, when: {trait: email_domain, in: [rival.io]}}\n": "",
            "require:\n  - {reason: has_email, when: {trait: email, exists: true}}": (
                "require:\n  - {reason: has_email, when: {trait: email, exists: true}}\n"
                "  - {reason: known_company, when: {trait: account.industry, exists: true}}"
            ),
            "threshold: 100": "threshold: 90\n  min_fit: 10",
            "{signal: demo}": "{any: [{signal: demo}, {signal: pricing}]}",
        },
    )
    d = diff(new)
    senior = find(d, "fit", "senior")
    assert senior.fields[0].field == "when"
    assert senior.fields[0].new == {"trait": "title", "matches": "(vp|chief|head)", "ignore_case": True}
    assert find(d, "disqualify", "competitor").kind == "removed"
    added = find(d, "require", "known_company")
    assert added.kind == "added" and added.value == {"when": {"trait": "account.industry", "exists": True}}
    qualify = find(d, "qualify", "")
    assert {f.field: (f.old, f.new) for f in qualify.fields} == {"threshold": (100, 90), "min_fit": (None, 10)}
    path = find(d, "paths", "hand_raiser")
    assert path.fields[0].new == {"any": [{"signal": "demo"}, {"signal": "pricing"}]}


def test_lists_groups_decay_grades_and_rules_added_or_removed() -> None:
    new = changed(
        OLD,
        **{
            'students: [".edu", ".ac.uk"]': 'students: [".edu", ".edu.au"]',
            "decay: {half_life: 30d}": "decay: {half_life: 14d}",
            "content: {cap: 30}": "content: {cap: 20}",
            "  - {id: webinar, event: webinar_attended, points: 10, group: content}\n": (
                "  - {id: trial, event: trial_started, per: once, points: 30, product: true}\n"
                "  - {id: webinar, event: webinar_attended, points: 10, group: content, half_life: none}\n"
            ),
            "  - {id: demo, event: demo_requested, per: once, points: 25}\n": "",
            "grades: {A: 40, B: 25, C: 10}": "grades: {A: 45, B: 25, C: 10}",
            "signal: demo": "signal: pricing",
        },
    )
    d = diff(new)
    students = find(d, "lists", "students")
    assert students.fields == (FieldChange("added", None, [".edu.au"]), FieldChange("removed", [".ac.uk"], None))
    assert find(d, "decay", "").fields == (FieldChange("half_life", "30d", "14d"),)
    assert find(d, "groups", "content").fields == (FieldChange("cap", 30, 20),)
    assert find(d, "engagement", "demo").kind == "removed"
    trial = find(d, "engagement", "trial")
    assert trial.kind == "added" and trial.value["product"] is True and "id" not in trial.value
    assert find(d, "engagement", "webinar").fields == (FieldChange("half_life", None, "none"),)
    assert find(d, "grades", "").fields == (FieldChange("A", 40, 45),)
    lines = d.lines()
    assert "  - demo: {event: demo_requested, points: 25, per: once}" in lines
    assert "  ~ students: added [.edu.au]; removed [.ac.uk]" in lines


def test_reordering_is_a_change() -> None:
    new = changed(
        OLD,
        **{
            "  - {reason: student, when: {trait: email_domain, ends_with: {list: students}}}\n"
            "  - {reason: competitor, when: {trait: email_domain, in: [rival.io]}}\n": (
                "  - {reason: competitor, when: {trait: email_domain, in: [rival.io]}}\n"
                "  - {reason: student, when: {trait: email_domain, ends_with: {list: students}}}\n"
            )
        },
    )
    (change,) = diff(new).changes
    assert change.section == "disqualify" and change.fields == (
        FieldChange("order", ["student", "competitor"], ["competitor", "student"]),
    )


def test_list_files_are_compared_by_their_values(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("rival.io\n")
    (tmp_path / "b.txt").write_text("rival.io\nfoe.com\n")
    body = "schema: 1\nname: x\nversion: 1\nlists:\n  rivals: {{file: {f}}}\n" + (
        "disqualify:\n  - {{reason: rival, when: {{trait: email_domain, in: {{list: rivals}}}}}}\n"
        "qualify: {{threshold: 1}}\n"
    )
    (tmp_path / "a.yaml").write_text(body.format(f="a.txt"))
    (tmp_path / "b.yaml").write_text(body.format(f="b.txt"))
    d = diff_definitions(load_definition(tmp_path / "a.yaml"), load_definition(tmp_path / "b.yaml"))
    (change,) = d.changes
    assert change.fields == (
        FieldChange("source", {"file": "a.txt"}, {"file": "b.txt"}),
        FieldChange("added", None, ["foe.com"]),
    )


def test_examples_against_each_other_and_json() -> None:
    a = load_definition(EXAMPLES / "classic.yaml")
    b = load_definition(EXAMPLES / "negative_factors.yaml")
    d = diff_definitions(a, b, "classic.yaml", "negative_factors.yaml")
    data = d.to_dict()
    assert data["old"] == {"label": "classic.yaml", "name": "classic", "version": a.version_str}
    assert data["identical"] is False
    assert {c["change"] for c in data["changes"]} <= {"added", "removed", "changed"}
    assert all(set(c) == {"section", "key", "change", "fields", "value"} for c in data["changes"])
    assert d.lines()[0].startswith("classic.yaml (classic v")


def test_value_formatting() -> None:
    assert [format_duration(s) for s in (90, 3600, 86400 * 30, 129600, 0, 1.5)] == [
        "1m30s", "1h", "30d", "1d12h", "none", "1.5s"
    ]  # fmt: skip
    assert text({"trait": "title", "matches": "(vp|chief)", "values": [1, True, None]}) == (
        '{trait: title, matches: "(vp|chief)", values: [1, true, unset]}'
    )
    assert text("30d") == "30d" and text("100") == '"100"' and text("yes") == '"yes"' and text(" x") == '" x"'
