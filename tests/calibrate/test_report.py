"""The held-out numbers: ``measure`` agrees with scikit-learn's precision, recall and ROC AUC, on a small
hand-made set and on a real calibration, for the current and the proposed definition."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import precision_score, recall_score, roc_auc_score

from leadgate.calibrate import Calibration, Settings
from leadgate.calibrate import features as feat
from leadgate.calibrate.pipeline import population
from leadgate.calibrate.report import measure
from tests.calibrate.conftest import World

Y = np.array([1, 0, 1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)
DEFINITIONS = {  # total score and MQL decision of two definitions on the same ten leads
    "current": (np.array([30, 10, 25, 5, 40, 0, 10, 35, 20, 5.0]), np.array([1, 0, 1, 0, 1, 0, 0, 1, 0, 0], bool)),
    "proposed": (np.array([50, 3, 41, 22, 8, 3, 3, 60, 22, 0.0]), np.array([1, 0, 1, 1, 0, 0, 0, 1, 1, 0], bool)),
}


def agrees(m, score: np.ndarray, qualified: np.ndarray, y: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    assert m.auc == pytest.approx(roc_auc_score(y, score))
    assert m.precision == pytest.approx(precision_score(y, qualified))
    assert m.recall == pytest.approx(recall_score(y, qualified))
    assert (m.leads, m.positives, m.mqls) == (y.size, int(y.sum()), int(qualified.sum()))


@pytest.mark.parametrize("name", DEFINITIONS)
def test_measure_matches_sklearn(name: str) -> None:
    score, qualified = DEFINITIONS[name]
    m = measure(name, score, qualified, Y, per_week=0.5)
    agrees(m, score, qualified, Y)
    assert m.mqls_per_week == pytest.approx(qualified.sum() * 0.5)


def test_hand_computed_values() -> None:
    m = measure("current", *DEFINITIONS["current"], Y, per_week=None)
    assert (m.precision, m.recall, m.mqls_per_week) == (0.75, 0.75, None)  # 3 of 4 MQLs converted; 3 of 4 found
    ties = measure("flat", np.zeros(10), np.zeros(10, bool), Y, per_week=None)
    assert (ties.auc, ties.precision, ties.recall) == (0.5, None, 0.0)  # no MQLs: no precision
    one_class = measure("none", np.arange(10.0), np.ones(10, bool), np.zeros(10, bool), per_week=None)
    assert (one_class.auc, one_class.recall) == (None, None)


def test_a_calibrations_report_matches_sklearn(world: World, timed: Calibration) -> None:
    test, y = timed.test, timed.y[timed.test]
    agrees(timed.report.proposed, timed.fitted[test], timed.qualified[test], y)
    pop = population(world.current, world.data, world.outcomes(), Settings(horizon=90 * 86400.0, capacity=20))
    assert pop.labels.lead_ids == timed.lead_ids
    now = feat.score(world.current.definition, pop.data, pop.labels.as_of, pop.labels.lead_ids)
    agrees(timed.report.current, now.total[test], now.qualified[test], y)
