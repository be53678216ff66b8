"""Points: shifting a block changes no ranking, rounding is half away from zero, thresholds keep their
promises on the leads they are chosen on."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import rankdata

from leadgate.calibrate.candidates import Candidate
from leadgate.calibrate.model import Fit
from leadgate.calibrate.points import (
    capacity_threshold,
    precision_logit,
    qualifies,
    round_half_away,
    to_points,
)
from leadgate.errors import CalibrationError


def test_round_half_away_from_zero() -> None:
    assert round_half_away(np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.49])).tolist() == [1, 2, 3, -1, -2, 0]


def _fit(weights: list[float], intercept: float = -1.0) -> Fit:
    return Fit(np.array(weights), intercept, 1.0, [], np.zeros(0), 5)


@given(st.lists(st.floats(-3, 3), min_size=3, max_size=3), st.floats(-2, 2), st.integers(0, 2))
def test_block_shift_keeps_every_ranking(weights: list[float], other: float, common: int) -> None:
    block = [Candidate(f"l{i}", "fit", {}, "", "trait", block="trait:t") for i in range(3)]
    candidates = [*block, Candidate("e", "engagement", {}, "", "event")]
    support = np.array([10.0, 10.0, 10.0, 5.0])
    support[common] = 100.0
    pts = to_points(_fit([*weights, other]), candidates, support)
    rng = np.random.default_rng(0)
    level = rng.integers(0, 3, 200)
    X = np.zeros((200, 4))
    X[np.arange(200), level] = 1
    X[:, 3] = rng.random(200) < 0.5
    unshifted = X @ round_half_away(np.array([*weights, other]) * pts.scale)
    assert np.array_equal(rankdata(pts.total(X)), rankdata(unshifted))
    # The most common points value of the block is 0, and the offset keeps the log-odds: logit(total) is the
    # model's log-odds up to rounding.
    assert pts.points[common] == 0 or np.sum(support[:3][pts.points[:3] == 0]) >= support[common]
    model = X @ np.array([*weights, other]) - 1.0
    assert np.allclose(pts.logit(pts.total(X)), model, atol=2 * 0.5 / pts.scale + 1e-9)
    assert pts.scale == pytest.approx(10 / math.log(2))


@given(
    st.lists(st.integers(-20, 40), min_size=1, max_size=200),
    st.floats(0.5, 100),
    st.floats(0.01, 2),
)
def test_capacity_threshold_is_the_lowest_within_capacity(totals: list[int], capacity: float, per_week: float) -> None:
    total = np.array(totals, dtype=float)
    none = np.zeros(total.size, dtype=bool)
    t, _ = capacity_threshold(total, none, none, per_week, capacity)
    count = int(qualifies(total, t, none, none).sum())
    assert count * per_week <= capacity + 1e-9
    lower = total[total < t - 1e-9]
    if lower.size:  # the next lower total would exceed the capacity
        assert int(qualifies(total, lower.max(), none, none).sum()) * per_week > capacity + 1e-9


def test_capacity_counts_paths_and_skips_blocked_leads() -> None:
    total = np.array([50.0, 40, 30, 20, 10])
    blocked = np.array([True, False, False, False, False])
    by_path = np.array([False, False, False, False, True])
    t, notes = capacity_threshold(total, blocked, by_path, 1.0, 2)
    assert t == 40 and qualifies(total, t, blocked, by_path).tolist() == [False, True, False, False, True]
    assert not notes
    t, notes = capacity_threshold(total, blocked, np.ones(5, dtype=bool), 1.0, 2)
    assert t == 51 and "paths alone" in notes[0]


def test_precision_logit_is_the_lowest_cut_reaching_the_target() -> None:
    logit = np.arange(40, dtype=float)
    y = np.zeros(40, dtype=bool)
    y[30:] = True  # the top 10 all converted
    y[[20, 22, 24, 26, 28]] = True
    none = np.zeros(40, dtype=bool)
    cut = precision_logit(logit, y, none, none, 0.75)
    chosen = logit >= cut
    assert y[chosen].mean() >= 0.75
    assert y[logit >= cut - 1].mean() < 0.75 or cut == 0
    with pytest.raises(CalibrationError, match=r"no threshold reaches a precision of 0\.99"):
        precision_logit(logit, y & (logit < 35), none, none, 0.99)
