"""Reasons against hand-computed values of the March scenario: B recycled (not_now), C disqualified
(no_budget), H auto-recycled (not_accepted); G's rejection (merged lead), E's merge row and I's rejection
(after the window) do not count.  Definition disqualifiers: D (student) and E (competitor, student); F is
anonymous and J was created before the window."""

from __future__ import annotations

from leadgate.reports import Window
from leadgate.reports.reasons import reasons
from leadgate.store.store import Store
from tests.reports.conftest import AS_OF, FROM, TO, Scenario

WINDOW = Window.parse(FROM, TO, AS_OF)


def rows_of(report_rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(r["slice"], r["kind"], r["reason"], r["count"], r["share"]) for r in report_rows]


def test_total(march: Scenario) -> None:
    report = reasons(march.store, WINDOW)
    assert report.rows == report.total
    assert rows_of(report.rows) == [
        ("all", "disqualified", "no_budget", 1, 1.0),
        ("all", "recycled", "not_accepted", 1, 0.5),
        ("all", "recycled", "not_now", 1, 0.5),
        ("all", "definition", "student", 2, 1.0),  # of 2 disqualified leads
        ("all", "definition", "competitor", 1, 0.5),
    ]


def test_by_channel(march: Scenario) -> None:
    assert rows_of(reasons(march.store, WINDOW, "channel").rows) == [
        ("email", "definition", "competitor", 1, 1.0),
        ("email", "definition", "student", 1, 1.0),
        ("organic_search", "recycled", "not_now", 1, 1.0),
        ("paid_search", "recycled", "not_accepted", 1, 1.0),
        ("paid_search", "definition", "student", 1, 1.0),
        ("(none)", "disqualified", "no_budget", 1, 1.0),
    ]


def test_by_mql_type_of_the_episode_and_definition_version_of_the_move(march: Scenario) -> None:
    by_type = rows_of(reasons(march.store, WINDOW, "mql_type").rows)
    assert by_type == [
        ("new", "disqualified", "no_budget", 1, 1.0),
        ("new", "recycled", "not_accepted", 1, 0.5),
        ("new", "recycled", "not_now", 1, 0.5),
        ("(none)", "definition", "student", 2, 1.0),
        ("(none)", "definition", "competitor", 1, 0.5),
    ]
    by_version = rows_of(reasons(march.store, WINDOW, "definition_version").rows)
    assert by_version == [
        ("classic v1", "recycled", "not_now", 1, 1.0),
        ("classic v1", "definition", "student", 1, 1.0),
        ("classic v2", "disqualified", "no_budget", 1, 1.0),
        ("classic v2", "recycled", "not_accepted", 1, 1.0),
        ("classic v2", "definition", "competitor", 1, 1.0),
        ("classic v2", "definition", "student", 1, 1.0),
    ]


def test_by_mql_basis_of_the_episode(march: Scenario) -> None:
    assert rows_of(reasons(march.store, WINDOW, "mql_basis").rows) == [
        ("fit", "recycled", "not_accepted", 1, 0.5),  # H
        ("fit", "recycled", "not_now", 1, 0.5),  # B's first MQL was fit, its second intent
        ("intent", "disqualified", "no_budget", 1, 1.0),  # C
        ("(none)", "definition", "student", 2, 1.0),
        ("(none)", "definition", "competitor", 1, 0.5),
    ]


def test_by_week(march: Scenario) -> None:
    assert rows_of(reasons(march.store, WINDOW, "week").rows) == [
        ("2026-03-02", "recycled", "not_now", 1, 1.0),
        ("2026-03-09", "disqualified", "no_budget", 1, 1.0),
        ("2026-03-09", "recycled", "not_accepted", 1, 1.0),
        ("2026-03-09", "definition", "student", 2, 1.0),
        ("2026-03-09", "definition", "competitor", 1, 0.5),
    ]


def test_empty(empty: Store) -> None:
    assert reasons(empty, WINDOW).rows == []
