"""Outcomes files and honest labels: what happened before the as-of instant is left out, what happened
after it within the horizon is positive, and bad rows are reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from leadgate.calibrate.outcomes import label, outcomes_from_table, read_outcomes
from leadgate.errors import CalibrationError, InputError

T = 1_000_000.0
DAY = 86_400.0


def _outcomes(rows: list[tuple[str, object, object]]) -> pa.Table:
    return pa.table({
        "lead_id": [r[0] for r in rows],
        "became_sql": [r[1] for r in rows],
        "sql_at": pa.array([r[2] for r in rows], pa.string()),
    })  # fmt: skip


def _iso(t: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).isoformat()


def test_labels_keep_time_honest() -> None:
    table = _outcomes([
        ("before", True, _iso(T - DAY)),  # converted already: left out
        ("at", True, _iso(T)),  # at T counts as before (features see T)
        ("inside", True, _iso(T + 5 * DAY)),  # positive
        ("late", True, _iso(T + 40 * DAY)),  # after the horizon: negative
        ("never", False, None),
        ("untimed", True, None),  # a positive without a time: left out, counted
    ])  # fmt: skip
    outcomes = outcomes_from_table(table, "sql")
    ids = ["before", "at", "inside", "late", "never", "untimed", "unknown", "future"]
    created = np.array([T - 9 * DAY] * 7 + [T + DAY])
    labels = label(ids, created, outcomes, T, 30 * DAY)
    assert labels.lead_ids == ["inside", "late", "never", "unknown"]
    assert labels.y.tolist() == [True, False, False, False]
    assert (labels.converted_before, labels.untimed_positive, labels.created_after) == (2, 1, 1)
    assert any("no time" in n for n in labels.notes)
    forever = label(ids, created, outcomes, T, None)
    assert forever.y.tolist() == [True, True, False, False]


def test_without_a_time_column_flags_are_taken_as_they_are() -> None:
    table = pa.table({"lead_id": ["a", "b"], "converted": ["yes", "no"]})
    outcomes = outcomes_from_table(table, "converted")
    labels = label(["a", "b"], np.array([np.nan, np.nan]), outcomes, T, 30 * DAY)
    assert labels.y.tolist() == [True, False] and not labels.timed
    assert any("cannot be told apart" in n for n in labels.notes)


def test_bad_rows_are_reported_not_used(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.csv"
    path.write_text("lead_id,won,closed_at\na,true,2026-01-01T00:00:00Z\nb,maybe,\na,false,\n,true,\nc,1,nonsense\n")
    outcomes = read_outcomes(path, "customer")
    assert outcomes.lead_ids == ["a"]
    assert outcomes.time_column == "closed_at"
    problems = [(r.row, r.field) for r in outcomes.rejected]
    assert problems == [(3, "won"), (4, "lead_id"), (5, "lead_id"), (6, "closed_at")]
    assert "duplicate lead_id 'a' (first at row 2)" in str(outcomes.rejected[1])


def test_missing_columns_are_clear_errors() -> None:
    with pytest.raises(InputError, match="no column for the outcome 'customer'; expected one named won or customer"):
        outcomes_from_table(pa.table({"lead_id": ["a"], "became_sql": [True]}), "customer")
    with pytest.raises(InputError, match="no 'lead_id' column"):
        outcomes_from_table(pa.table({"who": ["a"], "won": [True]}), "customer")
    with pytest.raises(CalibrationError, match="unknown outcome 'mql'"):
        outcomes_from_table(pa.table({"lead_id": ["a"]}), "mql")
