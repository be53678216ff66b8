"""Replay: MQL instants on a history worked out by hand, the same on both snapshot paths and engines,
and the metamorphic property that a backtest never sees the future."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadgate.backtest.periods import Snapshots
from leadgate.backtest.replay import FirstMql, Replay, replay
from leadgate.compiler.changes import supports
from leadgate.definition.model import Definition
from leadgate.engines import get_engine, prepare_tables
from leadgate.errors import LeadgateError
from leadgate.inputs.dataset import TS_TYPE, Dataset
from tests.backtest import tiny
from tests.compiler.test_snapshots import INSTANTS
from tests.strategies import EVENTS, MODELS, PATHS, PLANS, PROBABILITIES, datasets, definitions

WEEKS = Snapshots.between(tiny.at(0), tiny.at(21), "week")


def run(defn: Definition, data: Dataset, snapshots: Snapshots, engine: str = "duckdb", path: str = "auto") -> Replay:
    with get_engine(engine) as eng:
        eng.load(prepare_tables(defn, data))
        return replay(defn, eng, snapshots, path=path)


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
@pytest.mark.parametrize("path", ["changes", "snapshots"])
def test_mql_instants_worked_out_by_hand(engine: str, path: str) -> None:
    result = run(tiny.definition(), tiny.dataset(), WEEKS, engine, path)
    assert result.path == path
    assert result.at_start == ["C"]
    assert result.mqls == [
        FirstMql("A", 1, tiny.at(2 + 10 / 24), "event"),
        FirstMql("F", 2, tiny.at(7.5), "window"),
        FirstMql("B", 2, tiny.at(12), "event"),
        FirstMql("E", 3, tiny.at(15), "created"),
        FirstMql("G", 3, tiny.at(20), "event"),
    ]
    assert sorted(result.leads.column("lead_id").to_pylist()) == list("ABCDEFGH")


def test_decay_between_events_is_caught_at_the_snapshot() -> None:
    """A negative signal decaying away qualifies a lead between its events: no event probe qualifies,
    so its MQL instant is the snapshot that first sees it."""
    text = tiny.DEFINITION.replace(
        "- {id: careers, event: careers, within: 7d, per: once, points: -40}",
        "- {id: careers, event: careers, per: once, points: -40, half_life: 1d}",
    ).replace("threshold: 70", "threshold: 69")
    data = Dataset(
        leads=tiny.dataset().leads.slice(5, 1),  # F: VP, demo +1d, careers +12h
        events=tiny.dataset().events.filter(pa.array([e[0] == "F" for e in tiny.EVENTS])),
    )
    result = run(tiny.definition(text), data, WEEKS)
    assert result.path == "snapshots"
    # At its events: +12h 20 - 40 = -20, +1d 20 + 50 - 40 * 0.5^0.5 = 41.7; the penalty halves daily,
    # so the score passes 69 after 5.3 days (+5d20h), between events: first seen at T0+7d.
    assert result.mqls == [FirstMql("F", 1, tiny.at(7), "snapshot")]


def test_change_path_refuses_decay() -> None:
    text = tiny.DEFINITION.replace("points: -40}", "points: -40, half_life: 1d}")
    with pytest.raises(LeadgateError, match="decays"):
        run(tiny.definition(text), tiny.dataset(), WEEKS, path="changes")


# -- never the future ---------------------------------------------------------------------------------
def future(draw: Any, data: Dataset, after: float) -> Dataset:
    """``data`` plus events after ``after`` (for known and new leads), leads created after it, and model
    predictions scored after it (for known and new leads; any model, any probability)."""
    ids = data.leads.column("lead_id").to_pylist()
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from([*ids, "later-1", "later-2"]),
                st.sampled_from(sorted(EVENTS)),
                st.sampled_from([1e-6, 1.0, 3600.0, 86400.0, 30 * 86400.0]),
                st.sampled_from([*PATHS, None]),
                st.sampled_from([*PLANS, None]),
            ),
            min_size=1,
            max_size=20,
        )
    )
    extra = pa.table(
        {
            "lead_id": pa.array([r[0] for r in rows], pa.string()),
            "event": pa.array([r[1] for r in rows], pa.string()),
            "ts": pa.array([round((after + r[2]) * 1_000_000) for r in rows], pa.int64()).cast(TS_TYPE),
            "path": pa.array([r[3] for r in rows], pa.string()),
            "plan": pa.array([r[4] for r in rows], pa.string()),
        }
    )
    events = pa.concat_tables([data.events, extra], promote_options="default")
    later = pa.Table.from_pylist(
        [{"lead_id": f"later-{i}", "created_at": round((after + i) * 1_000_000)} for i in (1, 2)]
    )
    later = later.set_column(1, "created_at", later.column("created_at").cast(TS_TYPE))
    leads = pa.concat_tables([data.leads, later], promote_options="default")
    scored = draw(
        st.lists(
            st.tuples(
                st.sampled_from([*ids, "later-1", "later-2"]),
                st.sampled_from(MODELS),
                st.sampled_from(PROBABILITIES),
                st.sampled_from([1e-6, 1.0, 3600.0, 86400.0, 30 * 86400.0]),
            ),
            min_size=1,
            max_size=10,
        )
    )
    new_predictions = pa.table({
        "lead_id": pa.array([r[0] for r in scored], pa.string()),
        "model": pa.array([r[1] for r in scored], pa.string()),
        "probability": pa.array([r[2] for r in scored], pa.float64()),
        "scored_at": pa.array([round((after + r[3]) * 1_000_000) for r in scored], pa.int64()).cast(TS_TYPE),
    })  # fmt: skip
    predictions = (
        new_predictions
        if data.predictions is None
        else pa.concat_tables([data.predictions, new_predictions.cast(data.predictions.schema)])
    )
    return Dataset(leads=leads, events=events, accounts=data.accounts, predictions=predictions)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_events_after_a_snapshot_change_nothing_up_to_it(data: st.DataObject) -> None:
    defn = data.draw(definitions())
    history = data.draw(datasets(defn))
    instants = sorted(data.draw(st.lists(st.sampled_from(INSTANTS), min_size=2, max_size=4, unique=True)))
    snapshots = Snapshots(tuple(instants))
    k = data.draw(st.integers(0, len(instants) - 1))
    grown = future(data.draw, history, instants[k])
    path = data.draw(st.sampled_from(["auto", "snapshots"] if supports(defn) else ["snapshots"]))
    before, after = run(defn, history, snapshots, path=path), run(defn, grown, snapshots, path=path)
    assert after.at_start == before.at_start
    assert [m for m in after.mqls if m.period <= k] == [m for m in before.mqls if m.period <= k]
    assert scores(defn, grown, instants[k]) == scores(defn, history, instants[k])  # every score, not only MQLs


def scores(defn: Definition, data: Dataset, as_of: float) -> list[dict[str, Any]]:
    """Each lead's score as of ``as_of`` (the leads created by then), with every output column (points per
    rule, the probabilities its ``predicted`` conditions read), in a stable order."""
    with get_engine("duckdb") as eng:
        table = eng.score(defn, data, as_of).table
    return sorted(table.to_pylist(), key=lambda r: str(r["lead_id"]))


def test_a_new_prediction_is_a_qualifying_instant() -> None:
    """D never reaches 70 by points; a path on a model's prediction qualifies it when one of 0.9 arrives."""
    text = tiny.DEFINITION.replace(
        "qualify: {threshold: 70}", "qualify: {threshold: 70, paths: [{name: likely, when: {predicted: m, gte: 0.8}}]}"
    )
    data = tiny.dataset()
    scored = [("D", "m", 0.5, 3.0), ("D", "m", 0.9, 10.25), ("D", "other", 0.99, 1.0), ("A", "m", 0.1, 1.0)]
    data.predictions = pa.table(
        {
            "lead_id": [r[0] for r in scored],
            "model": [r[1] for r in scored],
            "probability": [r[2] for r in scored],
            "scored_at": pa.array([round(tiny.at(r[3]) * 1_000_000) for r in scored], pa.int64()).cast(TS_TYPE),
        }
    )
    result = run(tiny.definition(text), data, WEEKS)
    assert result.path == "snapshots"  # a prediction moves a score at an instant that is not the lead's event
    assert FirstMql("D", 2, tiny.at(10.25), "prediction") in result.mqls


def test_account_rollups_are_not_refined() -> None:
    """With an account roll-up, another lead's event can qualify a lead: MQL instants stay at snapshots."""
    text = tiny.DEFINITION.replace("qualify: {threshold: 70}", "account: {threshold: 1000}\nqualify: {threshold: 70}")
    result = run(tiny.definition(text), tiny.dataset(), WEEKS)
    assert [(m.lead_id, m.period, m.how) for m in result.mqls] == [
        ("A", 1, "snapshot"), ("B", 2, "snapshot"), ("F", 2, "snapshot"), ("E", 3, "snapshot"), ("G", 3, "snapshot")
    ]  # fmt: skip
    assert {m.at for m in result.mqls} <= set(WEEKS.instants)
