"""The model: steps for ordered bins, C by cross-validation, weights that recover a known logistic model."""

from __future__ import annotations

import numpy as np
import pytest

from leadgate.calibrate.candidates import Candidate
from leadgate.calibrate.model import design, fit, one_standard_error
from leadgate.errors import CalibrationError


def _bin(i: int, order: int | None) -> Candidate:
    return Candidate(f"b{i}", "fit", {}, "", "trait", block="trait:x", order=order)


def test_ordered_blocks_become_steps() -> None:
    candidates = [_bin(0, 0), _bin(1, 1), _bin(2, 2), _bin(3, None), Candidate("e", "engagement", {}, "", "event")]
    M = design(candidates)
    # bins 1 and 2 get "at least this bin" columns; missing and the event are their own columns
    assert M.shape == (5, 4)
    X = np.eye(5)  # one lead per candidate holding it alone
    Z = X @ M
    assert Z[0].tolist() == [0, 0, 0, 0]  # the lowest bin is the base
    assert Z[1].tolist() == [1, 0, 0, 0]
    assert Z[2].tolist() == [1, 1, 0, 0]
    coef = np.array([0.5, -0.2, 1.0, 2.0])
    assert (M @ coef).tolist() == pytest.approx([0.0, 0.5, 0.3, 1.0, 2.0])


def test_fit_recovers_a_known_model() -> None:
    rng = np.random.default_rng(1)
    n = 6000
    X = (rng.random((n, 4)) < 0.3).astype(float)
    true = np.array([1.2, -0.8, 0.0, 0.0])
    y = rng.random(n) < 1 / (1 + np.exp(-(X @ true - 1.0)))
    candidates = [Candidate(f"c{i}", "fit", {}, "", "trait") for i in range(4)]
    model = fit(X, y, candidates, seed=0)
    assert model.weights[:2] == pytest.approx(true[:2], abs=0.2)
    assert np.all(np.abs(model.weights[2:]) < 0.1)
    assert model.intercept == pytest.approx(-1.0, abs=0.2)
    assert model.oof.shape == (n,) and model.folds == 5
    assert model.C in {c for c, _, _ in model.cv}


def test_one_standard_error_prefers_the_stronger_penalty_within_noise() -> None:
    cv = [(0.01, 0.50, 0.02), (0.1, 0.43, 0.02), (1.0, 0.42, 0.02)]
    assert one_standard_error(cv, folds=4) == 0.1  # 0.43 <= 0.42 + 0.02 / 2
    assert one_standard_error([(0.1, 0.45, 0.0), (1.0, 0.42, 0.0)], folds=4) == 1.0


def test_too_few_outcomes_is_a_clear_error() -> None:
    X = np.ones((10, 1))
    y = np.array([1] + [0] * 9)
    with pytest.raises(CalibrationError, match="1 positive and 9 negative"):
        fit(X, y, [Candidate("c", "fit", {}, "", "trait")])
