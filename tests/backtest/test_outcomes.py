"""The outcome contract and its file source: columns by name or alias, defaults, rejected rows."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leadgate.backtest.outcomes import OUTCOME_COLUMNS, Outcomes, read_outcomes
from leadgate.errors import InputError


def test_generated_outcomes_read_in_every_format(tmp_path: Path) -> None:
    from leadgate.generate import generate

    for fmt in ("csv", "jsonl", "parquet"):
        generate(tmp_path / fmt, leads=200, seed=4, fmt=fmt)  # type: ignore[arg-type]
    tables = [read_outcomes(tmp_path / fmt / f"outcomes.{fmt}").table for fmt in ("csv", "jsonl", "parquet")]
    assert tables[0].column_names == list(OUTCOME_COLUMNS)
    assert tables[0].num_rows == 200
    for t in tables[1:]:
        assert t.equals(tables[0])
    assert pa.compute.sum(tables[0].column("became_sql")).as_py() > 0


def test_bad_rows_are_rejected_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text(
        "lead_id,became_sql,sql_at,customer,amount\n"
        "a,true,2026-08-01T00:00:00Z,yes,100\n"
        "b,maybe,,no,\n"
        ",true,,no,0\n"
        "a,false,,no,0\n"
        "c,1,not a time,0,12.5\n"
    )
    result = read_outcomes(path)
    assert result.table.column("lead_id").to_pylist() == ["a"]
    assert result.table.column("won").to_pylist() == [True]  # 'customer' is read as won
    assert result.table.column("revenue").to_pylist() == [100.0]  # 'amount' as revenue
    assert result.table.column("opportunity").to_pylist() == [False]  # absent: false
    problems = {(r.row, r.field) for r in result.rejected}
    assert problems == {(3, "became_sql"), (4, "lead_id"), (5, "lead_id"), (6, "sql_at")}
    assert all(r.file == str(path) for r in result.rejected)


def test_a_lead_id_column_is_required(tmp_path: Path) -> None:
    path = tmp_path / "o.parquet"
    pq.write_table(pa.table({"became_sql": [True]}), path)
    with pytest.raises(InputError, match="no 'lead_id' column"):
        read_outcomes(path)


def test_from_table_completes_missing_columns() -> None:
    result = Outcomes.from_table(pa.table({"lead_id": ["x", "y"], "won": [True, None]}))
    assert result.table.column_names == list(OUTCOME_COLUMNS)
    assert result.table.column("won").to_pylist() == [True, False]
    assert result.table.column("revenue").to_pylist() == [0.0, 0.0]
    assert result.table.column("sql_at").null_count == 2
    assert len(result) == 2
