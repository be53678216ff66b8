"""`leadgate report` end to end: the real CLI in a subprocess over the March scenario (tests/reports/conftest.py)
in a SQLite store, and a PostgreSQL one in the postgres suite."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from leadgate.store.store import Store
from tests.functional.test_cli import leadgate
from tests.reports.builder import Builder
from tests.reports.conftest import AS_OF, FROM, TO, build_march


@pytest.fixture
def database(store_url: str) -> Iterator[str]:
    store = Store(store_url)
    store.upgrade()
    build_march(Builder(store))
    store.engine.dispose()
    yield store_url


def window(database: str) -> list[str]:
    return ["--database", database, "--from", FROM, "--to", TO, "--as-of", AS_OF]


def test_funnel_table_csv_and_json(database: str, tmp_path: Path) -> None:
    shown = leadgate("report", "funnel", *window(database), "--by", "week")
    assert shown.returncode == 0, shown.stderr
    assert "Funnel, 2026-03-02 → 2026-03-15, as of 2026-04-30 00:00 UTC, by week: Volume" in shown.stdout
    totals = [line.split("│")[1:-1] for line in shown.stdout.splitlines() if line.startswith("│ all ")]
    assert len(totals) == 3  # one table per group: Volume, Conversion, Recycling
    assert [cell.strip() for cell in totals[0]] == ["all", "8", "6", "75.0%", "7", "87.5%", "1", "1.6 d", "6.5 d"]
    assert [cell.strip() for cell in totals[1]][5:7] == ["3,800", "1,000"]  # pipeline, revenue
    assert "note 1 opportunities of MQL leads in other currencies than USD" in shown.stderr

    out = tmp_path / "funnel.csv"
    written = leadgate("report", "funnel", *window(database), "--by", "channel", "--csv", out)
    assert written.returncode == 0, written.stderr
    rows = list(csv.DictReader(out.open()))
    assert [(r["slice"], r["leads"], r["mqls"]) for r in rows] == [
        ("email", "2", "1"), ("organic_search", "1", "2"), ("paid_search", "2", "2"), ("referral", "1", "0"),
        ("(none)", "2", "2"),
    ]  # fmt: skip
    assert rows[3]["mql_rate"] == "1.0" and rows[3]["mql_to_sql_rate"] == ""  # no MQLs: no rate

    as_json = leadgate("report", "speed", *window(database), "--json")
    assert as_json.returncode == 0, as_json.stderr
    (total,) = json.loads(as_json.stdout)["total"]
    assert (total["assignments"], total["sla_met"], total["sla_breached"], total["sla_attainment"]) == (7, 1, 3, 0.25)


def test_reasons_to_standard_output_as_csv(database: str) -> None:
    result = leadgate("report", "reasons", *window(database), "--csv", "-")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "slice,kind,reason,count,share",
        "all,disqualified,no_budget,1,1.0",
        "all,recycled,not_accepted,1,0.5",
        "all,recycled,not_now,1,0.5",
        "all,definition,student,2,1.0",
        "all,definition,competitor,1,0.5",
    ]


def test_bad_input_is_a_message_and_exit_code_2(database: str, tmp_path: Path) -> None:
    for args, message in [
        (["--from", "2026-03-09", "--to", "2026-03-01"], "to: the range from 2026-03-09 to 2026-03-01 is empty"),
        (["--from", "yesterday", "--to", "2026-03-01"], "from: 'yesterday' is not a date"),
    ]:
        result = leadgate("report", "funnel", "--database", database, *args)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    unknown = leadgate("report", "funnel", *window(database), "--by", "owner")
    assert unknown.returncode == 2 and "'owner' is not one of" in unknown.stderr
    fresh = leadgate("report", "speed", "--database", f"sqlite:///{tmp_path / 'none.db'}", "--from", FROM, "--to", TO)
    assert fresh.returncode == 2 and "leadgate db upgrade" in fresh.stderr and "Traceback" not in fresh.stderr
