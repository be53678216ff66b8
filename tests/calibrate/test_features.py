"""Features come from the candidate definition's compiled SQL, and mean what their rules say."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadgate.calibrate import features as feat
from leadgate.calibrate.candidates import Candidate
from leadgate.inputs.dataset import TS_TYPE, Dataset
from tests.calibrate.conftest import END, World

DAY = 86_400.0


def _empty_events() -> pa.Table:
    return pa.table(
        {"lead_id": pa.array([], pa.string()), "event": pa.array([], pa.string()), "ts": pa.array([], TS_TYPE)}
    )


def test_kinds_are_inferred_from_values_and_the_definition_wins() -> None:
    leads = pa.table({
        "lead_id": ["a", "b", "c"],
        "visits": [" 3", "4.5", None],
        "opt_in": ["TRUE", "false", None],
        "plan": ["pro", "12", None],
        "score": pa.array([1.0, 2.0, 3.0]),
        "zip": ["02139", "10001", None],
    })  # fmt: skip
    data = Dataset(leads=leads, events=_empty_events())
    kinds = feat.infer_kinds(data, {("leads", "zip"): "string"})
    assert kinds == {
        ("leads", "visits"): "number",
        ("leads", "opt_in"): "boolean",
        ("leads", "plan"): "string",
        ("leads", "score"): "number",
        ("leads", "zip"): "string",
    }
    typed = feat.typed(data, kinds).leads
    assert typed.column("visits").to_pylist() == [3.0, 4.5, None]
    assert typed.column("opt_in").to_pylist() == [True, False, None]
    assert typed.column("zip").to_pylist() == ["02139", "10001", None]


def _count(world: World, event: str, window: float | None, path: str | None, ids: list[str]) -> np.ndarray:
    """Events per lead, computed without leadgate: name, optional path, in (END - window, END]."""
    events = world.data.events
    mask = pc.equal(events.column("event"), event)
    ts = pc.cast(events.column("ts"), pa.int64()).to_numpy(zero_copy_only=False) / 1e6
    keep = np.asarray(mask.to_numpy(zero_copy_only=False)) & (ts <= END)
    if window is not None:
        keep &= ts > END - window
    if path is not None:
        keep &= np.asarray(pc.fill_null(pc.equal(events.column("path"), path), False).to_numpy(zero_copy_only=False))
    leads = np.asarray(events.column("lead_id").to_pylist(), dtype=object)[keep]
    counts = dict(zip(*np.unique(leads, return_counts=True), strict=True))
    return np.array([counts.get(i, 0) for i in ids])


def test_event_features_are_the_counts_their_rules_name(world: World) -> None:
    ids = [str(i) for i in world.data.leads.column("lead_id").to_pylist()]
    rules = [
        ("pv_30d_3", {"event": "page_view", "within": "30d", "min_count": 3}, 30 * DAY, None, 3),
        ("pricing_all_2", {"event": "page_view", "where": [{"property": "path", "equals": "/pricing"}], "min_count": 2},
         None, "/pricing", 2),
        ("demo_7d_1", {"event": "demo_requested", "within": "7d", "min_count": 1}, 7 * DAY, None, 1),
    ]  # fmt: skip
    candidates = [
        Candidate(rid, "engagement", {**rule, "per": "once", "half_life": "none"}, rid, "event")
        for rid, rule, *_ in rules
    ]
    data = feat.typed(world.data, feat.infer_kinds(world.data))
    X, _ = feat.candidate_features(candidates, {}, data, END, ids)
    for k, (_, rule, window, path, m) in enumerate(rules):
        expected = (_count(world, rule["event"], window, path, ids) >= m).astype(float)
        assert np.array_equal(X[:, k], expected), rule
        assert 0 < X[:, k].sum() < len(ids)


def test_chunks_give_the_same_features_as_one_query() -> None:
    n = 50
    ids = [f"L{i}" for i in range(n)]
    leads = pa.table({"lead_id": ids, "v": pa.array(np.arange(n, dtype=float))})
    data = Dataset(leads=leads, events=_empty_events())
    candidates = [
        Candidate(f"v_{k}", "fit", {"when": {"trait": "v", "gte": float(k)}}, "", "trait") for k in range(230)
    ]
    chunks = feat.chunks(candidates)
    assert len(chunks) == 3 and all(len(c) <= feat.MAX_RULES_PER_KIND for c in chunks)
    X, _ = feat.candidate_features(candidates, {}, data, 1e9, ids, threads=1)
    values = np.arange(n, dtype=float)
    assert np.array_equal(X, (values[:, None] >= np.arange(230)[None, :]).astype(float))


def test_blocked_and_path_flags_come_from_the_same_run() -> None:
    ids = ["a", "b", "c"]
    leads = pa.table(
        {"lead_id": ids, "email": ["x@uni.edu", "y@acme.com", "z@acme.com"], "tier": ["gold", "gold", "tin"]}
    )
    data = feat.typed(Dataset(leads=leads, events=_empty_events()), {("leads", "tier"): "string"})
    data = Dataset(leads=data.leads.append_column("email_domain", pa.array(["uni.edu", "acme.com", "acme.com"])),
                   events=data.events)  # fmt: skip
    carried = {
        "disqualify": [{"reason": "student", "when": {"trait": "email_domain", "ends_with": ".edu"}}],
        "paths": [{"name": "gold", "when": {"trait": "tier", "equals": "gold"}}],
    }
    candidate = Candidate("tin", "fit", {"when": {"trait": "tier", "equals": "tin"}}, "", "trait")
    X, scored = feat.candidate_features([candidate], carried, data, 1e9, ids, threads=1)
    assert X[:, 0].tolist() == [0.0, 0.0, 1.0]
    assert scored.blocked.tolist() == [True, False, False]
    assert scored.by_path.tolist() == [True, True, False]
