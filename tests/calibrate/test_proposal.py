"""The proposal's YAML: any value survives being written, neighbouring bins with equal points merge into one
rule that means the same, and every rule has a comment saying where its number came from."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from leadgate.calibrate import features as feat
from leadgate.calibrate.candidates import Ids, Limits, trait_candidates
from leadgate.calibrate.current import Current
from leadgate.calibrate.model import Fit
from leadgate.calibrate.points import to_points
from leadgate.calibrate.proposal import Stats, build_rules, flow, render, validate, version_after
from leadgate.inputs.dataset import TS_TYPE, Dataset

CURRENT = Current.parse("schema: 1\nname: demo\nversion: 4\nqualify: {threshold: 1}\n")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40))
@example("=\xa0")  # PyYAML's value tag once a trailing no-break space was stripped
@example("a\u2028b")  # a line separator: a line break to YAML
def test_any_value_survives_flow_yaml(value: str) -> None:
    data = {"trait": "title", "equals": value}
    assert yaml.safe_load(flow(data)) == data
    assert yaml.safe_load(flow(value)) == value
    nested = f"fit:\n  - id: r\n    when: {flow(data)}\n    points: 1\n"  # as a proposal writes it
    assert yaml.safe_load(nested)["fit"][0]["when"] == data


def test_version_after() -> None:
    assert version_after(4) == 5 and version_after("2026-q3") == "2026-q3-calibrated"


def test_neighbouring_bins_merge_and_mean_the_same() -> None:
    n = 400
    values = np.repeat(np.arange(8, dtype=float), n // 8)
    ids = Ids()
    candidates = trait_candidates(
        "size", pa.array(values), "number", ids, Limits(max_bins=8, min_support=10, min_share=0)
    )
    assert len(candidates) == 8
    weights = np.array([0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 1.0, 1.0])  # three runs of equal points
    support = np.full(8, n / 8)
    points = to_points(Fit(weights, -1.0, 1.0, [], np.zeros(0), 5), candidates, support)
    stats = [Stats(0.125, 0.2)] * 8
    rules = build_rules(CURRENT, {}, candidates, points, stats, ids)
    assert len(rules) == 2  # the first run is worth 0 points (as common as the second; ties go to 0)
    assert rules[0].data["when"] == {"all": [{"trait": "size", "gte": 3.0}, {"trait": "size", "lt": 6.0}]}
    assert rules[1].data["when"] == {"trait": "size", "gte": 6.0}
    assert [r.points for r in rules] == [7, 14]
    assert all("neighbouring bins merged" in r.comment for r in rules)
    text = render(CURRENT, {}, rules, 10, ["header"], [3, 2, 1], [3, 2, 1], "why", "what")
    proposed = validate(text, None)
    assert proposed.version == 5 and text.startswith("# header\n")
    assert text.count("  # size") == 2  # one comment per rule
    lead_ids = [f"L{i}" for i in range(n)]
    leads = pa.table({"lead_id": lead_ids, "size": values})
    empty = pa.table(
        {"lead_id": pa.array([], pa.string()), "event": pa.array([], pa.string()), "ts": pa.array([], TS_TYPE)}
    )
    scored = feat.score(proposed, Dataset(leads=leads, events=empty), 1e9, lead_ids, threads=1)
    X, _ = feat.candidate_features(candidates, {}, Dataset(leads=leads, events=empty), 1e9, lead_ids, threads=1)
    assert np.array_equal(scored.total, points.total(X))
