"""The demo-data generator: deterministic, well-formed, time-bounded, with outcomes that carry signal."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import leadgate
from leadgate.generate import COMPETITORS, generate, simulate
from leadgate.inputs.dataset import TS_TYPE
from tests.conftest import EXAMPLES

START, END = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
NAIVE_START, NAIVE_END = START.replace(tzinfo=None), END.replace(tzinfo=None)
COLUMNS = {
    "leads": ["lead_id", "email", "account_id", "created_at", "first_name", "last_name", "title", "seniority",
              "country", "source", "campaign", "email_opt_in", "sms_opt_in"],
    "accounts": ["account_id", "domain", "name", "industry", "employees", "country", "segment"],
    "events": ["lead_id", "event", "ts", "message_id", "path", "asset_type", "category", "campaign", "feature",
               "webinar", "live"],
    "outcomes": ["lead_id", "became_sql", "sql_at", "opportunity", "won", "revenue", "closed_at"],
}  # fmt: skip


def digest(directory: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(directory.iterdir()))).hexdigest()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documented demo: 2,000 leads, seed 7, Parquet."""
    out = tmp_path_factory.mktemp("demo")
    generate(out, leads=2000, seed=7, start=START, end=END, fmt="parquet")
    return out


def read(demo: Path, name: str) -> pa.Table:
    return pq.read_table(demo / f"{name}.parquet")


def score(definition: str, directory: Path, fmt: str) -> leadgate.ScoreRun:
    leads, events, accounts = (directory / f"{t}.{fmt}" for t in ("leads", "events", "accounts"))
    return leadgate.score(EXAMPLES / definition, leads=leads, events=events, accounts=accounts, as_of=END)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, fmt: str) -> None:
    a = generate(tmp_path / "a", leads=200, seed=1, fmt=fmt)  # type: ignore[arg-type]
    generate(tmp_path / "b", leads=200, seed=1, fmt=fmt)  # type: ignore[arg-type]
    generate(tmp_path / "c", leads=200, seed=2, fmt=fmt)  # type: ignore[arg-type]
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [f"{t}.{fmt}" for t in sorted(COLUMNS)]
    assert a.leads == 200 and a.events > 1000


def test_row_counts_and_columns(demo: Path, tmp_path: Path) -> None:
    for name, columns in COLUMNS.items():
        assert read(demo, name).column_names == columns, name
    assert read(demo, "leads").num_rows == read(demo, "outcomes").num_rows == 2000
    assert read(demo, "accounts").num_rows == 250  # one per eight leads
    summary = generate(tmp_path, leads=50, accounts=7, seed=3, fmt="parquet")
    assert (summary.leads, summary.accounts) == (50, 7)
    assert read(tmp_path, "events").num_rows == summary.events
    assert pc.sum(read(tmp_path, "outcomes").column("became_sql")).as_py() == summary.sqls


def test_parquet_types_and_keys(demo: Path) -> None:
    leads, accounts, events, outcomes = (read(demo, t) for t in ("leads", "accounts", "events", "outcomes"))
    assert leads.schema.field("created_at").type == TS_TYPE
    assert events.schema.field("ts").type == TS_TYPE
    assert {outcomes.schema.field(c).type for c in ("sql_at", "closed_at")} == {TS_TYPE}
    assert events.schema.field("event").type == pa.string()  # dictionary pages, read back as text
    assert events.schema.field("live").type == pa.bool_()
    assert leads.schema.field("sms_opt_in").type == pa.bool_()
    assert accounts.schema.field("employees").type == pa.int64()
    assert outcomes.schema.field("revenue").type == pa.float64()
    for table, key in ((leads, "lead_id"), (accounts, "account_id"), (events, "message_id")):
        assert pc.count_distinct(table.column(key)).as_py() == table.num_rows
    assert set(pc.unique(events.column("lead_id")).to_pylist()) <= set(leads.column("lead_id").to_pylist())
    known = set(accounts.column("account_id").to_pylist())
    assert set(leads.column("account_id").drop_null().to_pylist()) <= known


def test_timestamps_lie_in_the_window_and_follow_creation(demo: Path) -> None:
    leads, events, outcomes = read(demo, "leads"), read(demo, "events"), read(demo, "outcomes")
    for column in (leads.column("created_at"), events.column("ts"), outcomes.column("sql_at").drop_null()):
        assert pc.min(column).as_py() >= NAIVE_START and pc.max(column).as_py() < NAIVE_END
    ts = events.column("ts").cast(pa.int64()).to_numpy()
    assert (np.diff(ts) >= 0).all(), "events are written in time order"
    created = dict(zip(leads.column("lead_id").to_pylist(), leads.column("created_at").to_pylist(), strict=True))
    first = events.group_by("lead_id").aggregate([("ts", "min")])
    for lead_id, ts_min in zip(first.column("lead_id").to_pylist(), first.column("ts_min").to_pylist(), strict=True):
        assert ts_min >= created[lead_id]
    closed = outcomes.filter(pc.is_valid(outcomes.column("closed_at")))
    assert pc.all(pc.greater(closed.column("closed_at"), closed.column("sql_at"))).as_py()
    assert pc.all(pc.invert(pc.and_(outcomes.column("won"), pc.invert(outcomes.column("opportunity"))))).as_py()


def test_observable_traits_and_properties_the_examples_read(demo: Path) -> None:
    leads, accounts, events = read(demo, "leads"), read(demo, "accounts"), read(demo, "events")
    names = set(events.column("event").to_pylist())
    assert {"page_view", "demo_requested", "trial_started", "feature_used", "seat_invited", "content_downloaded",
            "webinar_registered", "webinar_attended", "slide_deck_requested", "email_opened", "email_clicked",
            "newsletter_subscribed", "unsubscribed", "form_submitted", "category_viewed", "added_to_cart",
            "size_guide_used"} <= names  # fmt: skip
    paths = set(events.column("path").drop_null().to_pylist())
    assert {"/pricing", "/integrations", "/careers", "/demo"} <= paths
    assert any(p.startswith("/blog/") for p in paths) and any(p.startswith("/category/") for p in paths)
    assert set(events.column("asset_type").drop_null().to_pylist()) == {"case_study", "whitepaper", "ebook"}
    attended = events.filter(pc.equal(events.column("event"), "webinar_attended"))
    assert attended.column("live").null_count == 0 and 0 < pc.sum(attended.column("live")).as_py() < len(attended)
    assert set(accounts.column("segment").to_pylist()) == {"smb", "mid_market", "enterprise"}
    emails = leads.column("email").to_pylist()
    domains = [e.rsplit("@", 1)[-1] for e in emails if e and "@" in e]
    assert any(d.endswith((".edu", ".ac.uk")) for d in domains)
    assert any(d in COMPETITORS for d in domains)
    listed = (EXAMPLES / "lists" / "competitors.txt").read_text().splitlines()
    assert [line for line in listed if line and not line.startswith("#")] == list(COMPETITORS)
    assert None in emails and any(e and " " in e for e in emails)  # a few unusable emails


def test_outcomes_follow_the_latent_variables() -> None:
    """Calibration has signal to find: SQL and win rates climb with intent and fit."""
    sim = simulate(leads=6000, seed=9)
    sql = sim.outcomes.column("became_sql").to_numpy(zero_copy_only=False)
    for latent in (sim.intent, sim.fit):
        low, high = np.quantile(latent, [0.1, 0.9])
        assert sql[latent >= high].mean() > 3 * sql[latent <= low].mean()
    revenue = sim.outcomes.column("revenue").to_numpy()
    won = sim.outcomes.column("won").to_numpy(zero_copy_only=False)
    assert (revenue[won] > 0).all() and (revenue[~won] == 0).all()


def test_research_rises_toward_the_demo_request() -> None:
    sim = simulate(leads=3000, seed=4)
    events = sim.events.to_pandas()
    events["event"] = events["event"].astype(str)
    demo = events[events["event"] == "demo_requested"].groupby("lead_id")["ts"].min()
    before = events.join(demo.rename("demo"), on="lead_id", how="inner")
    days = (before["demo"] - before["ts"]).dt.total_seconds() / 86400
    last_week = ((days > 0) & (days <= 7)).sum() / 7
    month_before = ((days > 30) & (days <= 60)).sum() / 30
    assert last_week > 3 * month_before


def test_text_formats_write_iso_utc_and_read_back(tmp_path: Path) -> None:
    generate(tmp_path / "csv", leads=100, seed=5, fmt="csv")
    generate(tmp_path / "jsonl", leads=100, seed=5, fmt="jsonl")
    with (tmp_path / "csv" / "events.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == COLUMNS["events"]
    assert all(len(r["ts"]) == 20 and r["ts"].endswith("Z") and r["ts"][10] == "T" for r in rows)
    first = json.loads((tmp_path / "jsonl" / "events.jsonl").read_text().splitlines()[0])
    assert first["ts"] == rows[0]["ts"] and None not in first.values()
    runs = [score("classic.yaml", tmp_path / fmt, fmt) for fmt in ("csv", "jsonl")]
    assert not runs[0].rejected and not runs[1].rejected
    assert runs[0].scores == runs[1].scores


@pytest.mark.parametrize("example", ["classic", "b2b_saas", "ecommerce", "consulting_webinars", "negative_factors"])
def test_each_example_qualifies_a_plausible_few(demo: Path, example: str) -> None:
    run = score(f"{example}.yaml", demo, "parquet")
    rate = len(run.mql_ids()) / 2000
    assert 0.02 <= rate <= 0.20, f"{example}: MQL rate {rate:.1%}"
    assert not run.rejected
