"""Model predictions in the store: the contract ``leadgate predict`` writes into, read by ``predicted``
conditions; and the live score equal to the batch score with account roll-ups and predictions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

import leadgate
from leadgate.errors import LeadgateError
from leadgate.inputs.dataset import TS_TYPE, Dataset
from leadgate.store.models import Base, Prediction
from leadgate.store.predictions import IncomingPrediction
from leadgate.store.store import IncomingEvent, Store, to_micros
from tests.store.conftest import ABM, NOW, people


def test_the_migration_creates_the_table_the_models_describe(abm_store: Store) -> None:
    assert "predictions" in inspect(abm_store.engine).get_table_names()
    with abm_store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "predictions" in repr(d)] == []


def test_predictions_are_stored_with_their_factors_and_exact_instant(abm_store: Store) -> None:
    people(abm_store, {"u1": "acme"})
    when = datetime(2026, 10, 30, 8, 0, 0, 123456, tzinfo=UTC)
    ids = abm_store.record_predictions(
        [
            IncomingPrediction("u1", "sql", 0.72, when, [{"factor": "pricing_30d", "weight": 1.2}], "2026-10"),
            {"lead_id": "u1", "model": "won", "probability": 0, "scored_at": when.replace(tzinfo=None)},
        ]
    )
    assert ids == ["u1"]
    with abm_store.session() as s:
        rows = s.scalars(select(Prediction).order_by(Prediction.model)).all()
    assert [(r.model, r.probability, r.model_version) for r in rows] == [("sql", 0.72, "2026-10"), ("won", 0.0, None)]
    assert rows[0].factors == [{"factor": "pricing_30d", "weight": 1.2}]
    assert rows[0].scored_us == to_micros(when) and rows[0].scored_at == datetime(2026, 10, 30, 8, 0, 0, 123456)


def test_a_bad_row_rejects_the_call_naming_every_problem_and_stores_nothing(abm_store: Store) -> None:
    people(abm_store, {"u1": None})
    rows = [
        {"lead_id": "u1", "model": "sql", "probability": 0.5, "scored_at": NOW},
        {"lead_id": "u1", "model": "", "probability": 1.5, "scored_at": "yesterday"},
        {"lead_id": "u1", "model": "sql", "probability": float("nan"), "scored_at": NOW, "factors": {"x": 1}},
        {"lead_id": "u1", "model": "sql", "probability": 0.5, "scored_at": NOW, "colour": "red"},
    ]
    with pytest.raises(LeadgateError) as info:
        abm_store.record_predictions(rows)
    text = str(info.value)
    for expected in (
        "row 1: model: expected a name of 1 to 200 characters, found ''",
        "row 1: probability: expected a number from 0 to 1, found 1.5",
        "row 1: scored_at: expected a datetime, found 'yesterday'",
        "row 2: probability: expected a number from 0 to 1, found nan",
        "row 2: factors: expected a list, found dict",
        "row 3: unknown field(s) colour",
    ):
        assert expected in text
    with pytest.raises(LeadgateError, match="row 0: lead_id: no lead 'ghost'"):
        abm_store.record_predictions([{"lead_id": "ghost", "model": "sql", "probability": 0.5, "scored_at": NOW}])
    with abm_store.session() as s:
        assert s.scalars(select(Prediction)).all() == []


def test_predictions_follow_merged_leads(abm_store: Store) -> None:
    with abm_store.session() as s, s.begin():
        abm_store.resolve(s, anonymous_id="v1", at=NOW - timedelta(days=2))
    abm_store.record_predictions([{"lead_id": "anon:v1", "model": "sql", "probability": 0.8, "scored_at": NOW}])
    with abm_store.session() as s, s.begin():
        abm_store.resolve(s, user_id="u1", anonymous_id="v1", at=NOW)  # the visitor identifies: merged into u1
    assert abm_store.record_predictions(
        [{"lead_id": "anon:v1", "model": "sql", "probability": 0.9, "scored_at": NOW + timedelta(seconds=1)}]
    ) == ["u1"]
    with abm_store.session() as s:
        assert {p.lead_id for p in s.scalars(select(Prediction))} == {"u1"}
    out = abm_store.score(["u1"], as_of=NOW + timedelta(seconds=1))
    assert out is not None and out.scores[0].predicted == {"sql": 0.9}
    earlier = abm_store.score(["u1"], as_of=NOW)  # point in time: the later prediction did not exist yet
    assert earlier is not None and earlier.scores[0].predicted == {"sql": 0.8}


def test_live_scores_equal_batch_scores_with_accounts_and_predictions(abm_store: Store) -> None:
    accounts = {"u1": "acme", "u2": "acme", "u3": "acme", "u4": "globex", "u5": None, "u6": "globex"}
    titles = {"u1": "VP Sales", "u4": "vp marketing"}
    people(abm_store, accounts)
    events = [
        ("u1", "page_view", "/pricing", 2.0), ("u1", "page_view", "/pricing/teams", 3.0),
        ("u1", "page_view", "/pricing", 1.0),
        ("u2", "demo_requested", None, 0.5), ("u3", "page_view", "/careers", 1.0),
        ("u4", "page_view", "/pricing", 3.0), ("u5", "demo_requested", None, 1.0), ("u6", "page_view", "/blog", 1.0),
    ]  # fmt: skip
    with abm_store.session() as s, s.begin():
        for lead_id, title in titles.items():
            lead = abm_store.find(s, "user_id", lead_id)
            assert lead is not None
            lead.traits = {"title": title}
        abm_store.record_events(
            s,
            [
                IncomingEvent(
                    f"e{i}", lead_id, name, NOW - timedelta(days=days), properties={"path": path} if path else {}
                )
                for i, (lead_id, name, path, days) in enumerate(events)
            ],
        )
    predictions = [
        ("u1", "sql", 0.9, NOW + timedelta(hours=1)),  # after T: not seen
        ("u1", "sql", 0.4, NOW - timedelta(days=1)),
        ("u4", "sql", 0.7, NOW - timedelta(days=2)),
        ("u4", "sql", 0.75, NOW - timedelta(days=2)),  # same instant: the higher one
        ("u5", "other", 0.99, NOW - timedelta(days=2)),
    ]
    abm_store.record_predictions(
        [{"lead_id": p[0], "model": p[1], "probability": p[2], "scored_at": p[3]} for p in predictions]
    )
    everyone = abm_store.score(None, as_of=NOW)
    one = abm_store.score(["u4"], as_of=NOW)  # a subset: its account's peers are scored with it, on the same view
    assert everyone is not None and one is not None
    assert [x.lead_id for x in one.scores] == ["u4", "u6"]
    live = {x.lead_id: x.to_dict() for x in everyone.scores}
    assert [x.to_dict() for x in one.scores] == [live["u4"], live["u6"]]
    n = len(accounts)
    created = to_micros(NOW - timedelta(days=30))
    data = Dataset(
        leads=pa.table({"lead_id": list(accounts), "email": pa.nulls(n, pa.string()),
                        "email_domain": pa.nulls(n, pa.string()), "account_id": list(accounts.values()),
                        "created_at": pa.array([created] * n, pa.int64()).cast(TS_TYPE),
                        "title": [titles.get(i) for i in accounts]}),
        events=pa.table({"lead_id": [e[0] for e in events], "event": [e[1] for e in events],
                         "ts": pa.array([to_micros(NOW - timedelta(days=e[3])) for e in events]).cast(TS_TYPE),
                         "path": [e[2] for e in events]}),
        predictions=pa.table({"lead_id": [p[0] for p in predictions], "model": [p[1] for p in predictions],
                              "probability": [p[2] for p in predictions],
                              "scored_at": pa.array([to_micros(p[3]) for p in predictions]).cast(TS_TYPE)}),
    )  # fmt: skip
    batch = leadgate.score(ABM, data=data, as_of=NOW.isoformat(), engine="duckdb")
    assert list(live.values()) == [x.to_dict() for x in batch.scores]
    by_id = {x.lead_id: x for x in batch.scores}
    assert by_id["u4"].qualified_by == ["likely"] and by_id["u4"].predicted == {"sql": 0.75}
    assert by_id["u2"].qualified_by == ["buying_group"] and by_id["u3"].qualified_by == []


def test_the_latest_prediction_of_each_model_is_read_back_with_its_factors(abm_store: Store) -> None:
    from leadgate.store.predictions import latest_for_lead

    people(abm_store, {"u1": "acme", "u2": "acme"})
    early, late = datetime(2026, 10, 1, 8, 0), datetime(2026, 10, 30, 8, 0, 0, 5)
    factors = [{"factor": "pricing_30d", "label": "pricing page in 30 days", "weight": 1.2}]
    abm_store.record_predictions([
        IncomingPrediction("u1", "sql", 0.4, early, [{"factor": "old", "weight": 0.1}], "v1"),
        IncomingPrediction("u1", "sql", 0.72, late, factors, "v2"),
        IncomingPrediction("u1", "sql", 0.70, late, [], "v2"),  # a tie at one instant: the higher wins
        IncomingPrediction("u1", "won", 0.05, early),
        IncomingPrediction("u2", "sql", 0.9, late),
    ])  # fmt: skip
    with abm_store.session() as s:
        found = latest_for_lead(s, "u1")
        assert found == [
            {"model": "sql", "model_version": "v2", "probability": 0.72, "scored_at": "2026-10-30T08:00:00.000005Z",
             "factors": factors},
            {"model": "won", "model_version": None, "probability": 0.05, "scored_at": "2026-10-01T08:00:00Z",
             "factors": []},
        ]  # fmt: skip
        assert [p["model"] for p in latest_for_lead(s, "u1", "won")] == ["won"]
        assert latest_for_lead(s, "nobody") == []
