"""Functional: `leadgate backtest` on generated demo data and on a store: tables, JSON, CSV, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from leadgate.backtest import History, Snapshots, backtest
from tests.conftest import EXAMPLES
from tests.functional.test_cli import leadgate

RANGE = ["--from", "2026-08-01", "--to", "2026-11-01"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = leadgate("generate", "--out", out, "--leads", "400", "--seed", "5", "--format", "parquet")
    assert result.returncode == 0, result.stderr
    return out


def files(demo: Path) -> list[str | Path]:
    return ["--leads", demo / "leads.parquet", "--events", demo / "events.parquet", "--accounts",
            demo / "accounts.parquet", "--outcomes", demo / "outcomes.parquet"]  # fmt: skip


def test_backtest_prints_periods_and_writes_the_report(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = leadgate("backtest", EXAMPLES / "classic.yaml", *RANGE, "--every", "month", *files(demo), "--out", out)
    assert result.returncode == 0, result.stderr
    assert "08-01..09-01" in result.stdout and "total" in result.stdout and "→SQL" in result.stdout
    report = json.loads(out.read_text())
    assert report["engine"] == "duckdb"  # the default engine
    assert len(report["definition"]["periods"]) == 3
    expected = backtest(
        EXAMPLES / "classic.yaml",
        History.files(demo / "leads.parquet", demo / "events.parquet", demo / "accounts.parquet"),
        Snapshots.between("2026-08-01", "2026-11-01", "month"),
        outcomes=demo / "outcomes.parquet",
    )
    assert report["definition"]["total"] == expected.definition.total.to_dict()
    assert [m["lead_id"] for m in report["definition"]["mqls"]] == [m.lead_id for m in expected.definition.mqls]
    assert f"{expected.definition.total.mqls:,}" in result.stdout


def test_against_a_baseline_as_json_csv_and_mql_list(demo: Path, tmp_path: Path) -> None:
    result = leadgate(
        "backtest", EXAMPLES / "classic.yaml", "--against", EXAMPLES / "negative_factors.yaml", *RANGE,
        *files(demo), "--json", "--out", tmp_path / "r.csv", "--mqls", tmp_path / "m.csv", "--engine", "sqlite",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    c = data["comparison"]
    assert c["verdict"] in {"better quality", "worse quality", "mixed", "volume only", "no change"}
    assert isinstance(c["gained"], int) and c["summary"].startswith(str(EXAMPLES / "classic.yaml"))
    assert data["baseline"]["name"] == "negative_factors" and "mqls" not in data["definition"]
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert rows[-1]["period"] == "total" and rows[-1]["mqls"] == str(data["definition"]["total"]["mqls"])
    assert rows[-1]["baseline_mqls"] == str(data["baseline"]["total"]["mqls"])
    mqls = list(csv.DictReader((tmp_path / "m.csv").open()))
    assert {m["definition"] for m in mqls} == {str(EXAMPLES / "classic.yaml"), str(EXAMPLES / "negative_factors.yaml")}
    assert len(mqls) == data["definition"]["total"]["mqls"] + data["baseline"]["total"]["mqls"]
    # gained and lost per period: worked out again from the MQL list
    mine = {m["lead_id"]: int(m["period"]) for m in mqls if m["definition"] == str(EXAMPLES / "classic.yaml")}
    theirs = {m["lead_id"]: int(m["period"]) for m in mqls if m["definition"] != str(EXAMPLES / "classic.yaml")}
    periods = range(1, len(data["definition"]["periods"]) + 1)
    gained = [sum(1 for lead, p in mine.items() if p == i and lead not in theirs) for i in periods]
    lost = [sum(1 for lead, p in theirs.items() if p == i and lead not in mine) for i in periods]
    assert (c["gained_by_period"], c["lost_by_period"]) == (gained, lost)
    assert (sum(gained), sum(lost)) == (c["gained"], c["lost"]) and sum(lost) > 0
    expected = [*zip(gained, lost, strict=True), (c["gained"], c["lost"])]
    assert [(int(r["gained"]), int(r["lost"])) for r in rows] == expected


def test_side_by_side_table_shows_gained_lost_timing_and_revenue(demo: Path) -> None:
    result = leadgate(
        "backtest", EXAMPLES / "classic.yaml", "--against", EXAMPLES / "negative_factors.yaml", *RANGE,
        "--every", "month", *files(demo),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    volume = next(line for line in lines if line.split()[:1] == ["period"] and "gained" in line)
    assert volume.split() == ["period", "new", "MQLs", "base", "gained", "lost", "days", "base"]
    outcomes = next(line for line in lines if line.split()[:1] == ["period"] and "rev/MQL" in line)
    assert outcomes.split() == ["period", "→SQL", "base", "→cust", "base", "rev/MQL", "base"]
    data = json.loads(leadgate(
        "backtest", EXAMPLES / "classic.yaml", "--against", EXAMPLES / "negative_factors.yaml", *RANGE,
        "--every", "month", *files(demo), "--json",
    ).stdout)  # fmt: skip
    c = data["comparison"]
    first = next(line for line in lines if line.startswith(" 08-01..09-01") and "+" in line).split()
    assert first[4:6] == [f"+{c['gained_by_period'][0]}", f"−{c['lost_by_period'][0]}"]
    total = next(line for line in lines if line.startswith(" total") and "+" in line).split()
    assert total[4:6] == [f"+{c['gained']}", f"−{c['lost']}"]


def test_backtest_reads_the_store_and_stored_versions(tmp_path: Path) -> None:
    from tests.backtest import tiny
    from tests.store.test_history import when

    url = f"sqlite:///{tmp_path / 'store.db'}"
    (tmp_path / "tiny.yaml").write_text(tiny.DEFINITION)
    assert leadgate("definitions", "push", tmp_path / "tiny.yaml", "--author", "t", "--database", url).returncode == 0
    from leadgate.store.store import IncomingEvent, Store

    store = Store(url)
    with store.session() as s, s.begin():
        for lead_id, title, created in tiny.LEADS:
            store.resolve(s, user_id=lead_id, at=when(created if created is not None else -40)).traits = {
                "title": title
            }
        store.record_events(
            s, [IncomingEvent(f"m{i}", lead, name, when(d)) for i, (lead, name, d) in enumerate(tiny.EVENTS)]
        )
    store.engine.dispose()
    result = leadgate("backtest", "tiny@1", "--from", "2026-03-01", "--to", "2026-03-22", "--database", url, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["history"] == f"store {url}" and data["definition"]["label"] == "#1 tiny@1"
    assert [p["mqls"] for p in data["definition"]["periods"]] == [1, 2, 2]
    assert data["outcomes"] == f"store {url}"  # the store's own record: no SQL, no customer yet
    assert (data["definition"]["total"]["sqls"], data["definition"]["total"]["customers"]) == (0, 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "August", "--to", "2026-11-01"], "not an ISO-8601"),
        (["--from", "2026-11-01", "--to", "2026-08-01"], "must be after"),
        (["--from", "2026-08-01", "--to", "2026-11-01", "--path", "changes", "--against", "b2b"], "neither"),
    ],
)
def test_errors_are_clean(demo: Path, args: list[str], message: str) -> None:
    result = leadgate("backtest", EXAMPLES / "classic.yaml", *args, *files(demo))
    assert result.returncode == 2, result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr


def test_decay_cannot_take_the_change_point_path(demo: Path) -> None:
    result = leadgate("backtest", EXAMPLES / "b2b_saas.yaml", *RANGE, "--path", "changes", *files(demo))
    assert result.returncode == 2 and "decays scores between events" in result.stderr


def test_events_need_leads(demo: Path) -> None:
    result = leadgate("backtest", EXAMPLES / "classic.yaml", *RANGE, "--events", demo / "events.parquet")
    assert result.returncode == 2 and "need --leads" in result.stderr


PREDICTIVE = """\
schema: 1
name: predictive
version: 1
qualify:
  threshold: 1000000
  paths:
    - name: likely
      when: {predicted: sql_model, gte: 0.5}
"""


def test_a_definition_reading_predictions_without_them_gets_a_note(demo: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    definition = tmp_path / "predictive.yaml"
    definition.write_text(PREDICTIVE)
    without = leadgate("backtest", definition, *RANGE, *files(demo), "--json")
    assert without.returncode == 0, without.stderr
    assert "the definition reads model predictions (sql_model) but no --predictions file was given" in without.stderr
    assert json.loads(without.stdout)["definition"]["total"]["mqls"] == 0  # every 'predicted' condition false
    ids = pq.read_table(demo / "leads.parquet", columns=["lead_id"]).column("lead_id").to_pylist()[:3]
    predictions = tmp_path / "predictions.csv"
    predictions.write_text("lead_id,model,probability,scored_at\n" + "".join(
        f"{lead},sql_model,0.9,2026-07-01T00:00:00Z\n" for lead in ids
    ))  # fmt: skip
    given = leadgate("backtest", definition, *RANGE, *files(demo), "--predictions", predictions, "--json")
    assert given.returncode == 0, given.stderr
    assert "note" not in given.stderr
    report = json.loads(given.stdout)["definition"]
    assert report["total"]["mqls"] + report["mqls_at_start"] == 3
