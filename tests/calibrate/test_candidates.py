"""Candidate signals: a trait's levels hold for exactly one of every lead (checked through the compiled SQL,
which is what gives them meaning), bins and thresholds have the support they promise, ids are valid."""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadgate.calibrate import features as feat
from leadgate.calibrate.candidates import (
    EventData,
    Ids,
    Limits,
    count_thresholds,
    event_candidates,
    number_edges,
    own_candidates,
    trait_candidates,
)
from leadgate.definition.model import IDENT
from leadgate.inputs.dataset import TS_TYPE, Dataset

SMALL = Limits(max_bins=6, max_levels=4, min_support=3, min_share=0.0)


def _levels_per_lead(name: str, values: pa.Array, kind: str) -> tuple[np.ndarray, int]:
    """How many of the trait's levels hold for each lead, by the candidate definition's compiled SQL."""
    candidates = trait_candidates(name, values, kind, Ids(), SMALL)
    n = len(values)
    ids = [f"L{i}" for i in range(n)]
    leads = pa.table({"lead_id": ids, name: values})
    empty = pa.table(
        {"lead_id": pa.array([], pa.string()), "event": pa.array([], pa.string()), "ts": pa.array([], TS_TYPE)}
    )
    data = feat.typed(Dataset(leads=leads, events=empty), {("leads", name): kind})
    X, _ = feat.candidate_features(candidates, {}, data, 1e9, ids, threads=1)
    return (X != 0).sum(axis=1), len(candidates)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.none(), st.integers(-5, 40), st.floats(-1e3, 1e3, allow_nan=False)), min_size=8, max_size=60)
)
def test_number_levels_partition_every_lead(values: list[float | None]) -> None:
    column = pa.array([None if v is None else float(v) for v in values], pa.float64())
    per_lead, levels = _levels_per_lead("size", column, "number")
    assert levels == 0 or np.all(per_lead == 1)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "e", "f", "it's", "x y"])), min_size=8, max_size=60
    )
)
def test_text_levels_partition_every_lead(values: list[str | None]) -> None:
    per_lead, levels = _levels_per_lead("plan", pa.array(values, pa.string()), "string")
    assert levels == 0 or np.all(per_lead == 1)


def test_boolean_levels_partition_every_lead() -> None:
    per_lead, levels = _levels_per_lead("opt_in", pa.array([True, False, None] * 5, pa.bool_()), "boolean")
    assert levels == 3 and np.all(per_lead == 1)


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=300), st.integers(1, 30), st.integers(1, 40)
)
def test_number_edges_keep_their_support(values: list[float], max_bins: int, support: int) -> None:
    array = np.array(values)
    edges = number_edges(array, max_bins, support)
    assert len(edges) + 1 <= max(max_bins, 1)
    assert edges == sorted(set(edges)) and all(e in array for e in edges)
    bounds = [-np.inf, *edges, np.inf]
    for low, high in pairwise(bounds):
        assert int(((array >= low) & (array < high)).sum()) >= min(support, array.size) or not edges


@given(st.lists(st.integers(0, 50), min_size=1, max_size=200), st.integers(1, 20))
def test_count_thresholds_are_reached_by_enough_leads(counts: list[int], support: int) -> None:
    array = np.array(counts)
    found = count_thresholds(array, 4, support)
    if (array > 0).sum() < support:
        assert found == []
        return
    assert found[0] == 1 and found == sorted(set(found)) and len(found) <= 4
    assert all(int((array >= m).sum()) >= support for m in found)


@given(st.lists(st.text(min_size=0, max_size=60), min_size=1, max_size=30))
def test_ids_are_valid_and_unique(names: list[str]) -> None:
    ids = Ids()
    made = [ids.make(name, "x") for name in names]
    assert len(set(made)) == len(made)
    assert all(re.fullmatch(IDENT, i) for i in made)


def test_event_candidates_use_standard_windows_and_common_values() -> None:
    rng = np.random.default_rng(0)
    n = 200
    lead = rng.integers(0, n, 3000)
    name = np.where(rng.random(3000) < 0.7, "page_view", "rare_event").astype(object)
    name[:2990][name[:2990] == "rare_event"] = "page_view"  # rare_event: a handful of leads only
    path = rng.choice(np.array(["/pricing", "/blog", "/docs"], dtype=object), 3000)
    age = rng.random(3000) * 200 * 86400.0
    events = EventData(lead, name, age, {"path": path}, n)
    found = event_candidates(events, Ids(), Limits(min_support=20, min_share=0.0))
    assert {c.rule["event"] for c in found} == {"page_view"}
    windows = {c.rule.get("within", "all") for c in found}
    assert windows == {"7d", "30d", "90d", "all"}
    filtered = [c for c in found if "where" in c.rule]
    assert {c.rule["where"][0]["equals"] for c in filtered} == {"/pricing", "/blog", "/docs"}
    assert all(c.rule["per"] == "once" and c.rule["half_life"] == "none" for c in found)


def test_own_rules_are_candidates_worth_one_point() -> None:
    raw = {
        "fit": [{"id": "senior", "when": {"trait": "title", "matches": "vp"}, "points": 15, "group": "g"}],
        "engagement": [{"id": "visits", "event": "page_view", "points": 5, "cap": 20, "half_life": "7d"}],
    }
    ids = Ids()
    found = own_candidates(raw, ids)
    assert [c.id for c in found] == ["senior", "visits"] and {"senior", "visits"} <= ids.taken
    assert "group" not in found[0].rule and found[1].rule["cap"] == 4.0  # 20 / 5: the rule at one point
    assert found[1].rule["half_life"] == "7d"
