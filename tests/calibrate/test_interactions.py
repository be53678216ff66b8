"""Interactions: the pair of traits that matters together is found, and its cells become rules."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from leadgate.calibrate.candidates import Ids, Limits, trait_candidates
from leadgate.calibrate.interactions import coarse_traits, interaction_candidates
from leadgate.calibrate.model import fit


def _one_hot(candidates: list, values: dict[str, list[str]]) -> np.ndarray:  # type: ignore[type-arg]
    n = len(next(iter(values.values())))
    X = np.zeros((n, len(candidates)))
    for j, c in enumerate(candidates):
        column = values[c.field]
        X[:, j] = [v == c.rule["when"].get("equals") for v in column]
    return X


def test_the_interacting_pair_is_found() -> None:
    rng = np.random.default_rng(5)
    n = 4000
    a = rng.choice(["x", "y"], n)
    b = rng.choice(["p", "q"], n)
    c = rng.choice(["r", "s"], n)  # noise
    logit = -1.0 + 2.0 * ((a == "x") & (b == "p")) - 0.5
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    ids, limits = Ids(), Limits(min_support=20, min_share=0.0)
    candidates = []
    for name, values in (("a", a), ("b", b), ("c", c)):
        candidates += trait_candidates(name, pa.array(values), "string", ids, limits)
    X = _one_hot(candidates, {"a": list(a), "b": list(b), "c": list(c)})
    assert len(coarse_traits(candidates, X)) == 3
    main = fit(X, y, candidates, seed=0)
    found = interaction_candidates(candidates, X, y.astype(float), main, 1, ids, limits)
    assert found and {c.field for c in found} == {"a x b"}
    cells = [c.rule["when"]["all"] for c in found]
    assert [{"trait": "a", "equals": "x"}, {"trait": "b", "equals": "p"}] in cells
    assert all(c.source == "interaction" and c.block is None for c in found)
