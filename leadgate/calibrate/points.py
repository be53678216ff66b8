"""Weights into integer points, and a threshold on them.

Points are log-odds times a scale: by default 10 points double the odds (``scale = 10 / ln 2``), the
scorecard convention, so a reader can say what 10 points mean.  Weights are scaled and rounded (half away
from zero).  Within a trait's block (exactly one level holds for every lead) every level is then shifted by
the same whole number of points, so that the points value most leads have becomes 0: that moves every
lead's total by the same amount, changes no ranking, and lets the common case drop out of the definition.
Rules worth 0 points are dropped.

The threshold is chosen on the training leads, in the proposal's own terms (a lead qualifies when no hard
rule blocks it and its total reaches the threshold or a kept named path holds):

- for a weekly capacity, the lowest threshold whose expected MQLs per week are at most the capacity;
- for a target precision, the lowest threshold whose precision is at least the target, measured on the
  out-of-fold predictions of cross-validation (in-sample precision would be optimistic).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from leadgate.calibrate.candidates import Candidate, blocks
from leadgate.calibrate.model import Fit
from leadgate.errors import CalibrationError

#: Points that double the odds of the outcome.
POINTS_TO_DOUBLE = 10.0
EPS = 1e-9
#: A precision target needs at least this many qualifying training leads to be believed.
MIN_QUALIFIED = 10


def round_half_away(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


@dataclass
class Points:
    """Integer points per candidate, and how a total maps back to log-odds."""

    points: np.ndarray
    weights: np.ndarray  # shifted weights (log-odds), before scaling and rounding
    offset: float  # log-odds of a lead whose total is 0
    scale: float  # points per unit of log-odds
    references: dict[str, int]  # block -> the level shifted to 0 points

    def total(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X @ self.points)

    def logit(self, total: np.ndarray | float) -> np.ndarray:
        return np.asarray(self.offset + np.asarray(total) / self.scale)

    def probability(self, total: np.ndarray | float) -> np.ndarray:
        return np.asarray(1 / (1 + np.exp(-self.logit(total))))

    def threshold_for_logit(self, logit: float) -> float:
        """The lowest whole-point total whose log-odds reach ``logit``."""
        return float(math.ceil((logit - self.offset) * self.scale - EPS))


def to_points(
    fit: Fit, candidates: Sequence[Candidate], support: np.ndarray, points_to_double: float = POINTS_TO_DOUBLE
) -> Points:
    """Scale and round; then shift each block so that its most common points value (by leads) is 0."""
    scale = points_to_double / math.log(2)
    weights = fit.weights.astype(float).copy()
    points = round_half_away(weights * scale)
    offset = fit.intercept
    references: dict[str, int] = {}
    for block, members in blocks(candidates).items():
        by_value: dict[float, float] = {}
        for i in members:
            by_value[points[i]] = by_value.get(points[i], 0.0) + float(support[i])
        mode = max(by_value, key=lambda v: (by_value[v], -abs(v)))
        ref = max((i for i in members if points[i] == mode), key=lambda i: (support[i], -i))
        points[members] -= mode
        weights[members] -= mode / scale
        offset += mode / scale
        references[block] = ref
    return Points(points=points, weights=weights, offset=float(offset), scale=scale, references=references)


def qualifies(total: np.ndarray, threshold: float, blocked: np.ndarray, by_path: np.ndarray) -> np.ndarray:
    return ~blocked & ((total >= threshold - EPS) | by_path)


def tidy(threshold: float) -> float:
    """A threshold as written: whole points, or rounded up to hundredths when totals are fractional."""
    if abs(threshold - round(threshold)) < EPS:
        return float(round(threshold))
    return math.ceil(threshold * 100 - EPS) / 100


def capacity_threshold(
    total: np.ndarray, blocked: np.ndarray, by_path: np.ndarray, per_week: float, capacity: float
) -> tuple[float, list[str]]:
    """The lowest threshold whose MQLs (counted on these leads) times ``per_week`` stay within capacity: the
    lowest total a qualifying lead has (or one point above every total when none can qualify)."""
    notes: list[str] = []
    paths_only = int((~blocked & by_path).sum())
    if paths_only * per_week > capacity + EPS:
        notes.append(
            f"the kept named paths alone qualify {paths_only * per_week:.1f} MQLs per week, above the capacity "
            f"of {capacity:g}: the threshold is set above every total"
        )
        return float(math.floor(total.max(initial=0)) + 1), notes
    scored = np.sort(total[~blocked & ~by_path])[::-1]
    room = math.floor((capacity + EPS) / per_week) - paths_only if per_week > 0 else scored.size
    if room >= scored.size:
        return tidy(float(scored.min(initial=0))), notes
    if room <= 0:
        return float(math.floor(scored.max(initial=0)) + 1), notes
    # Qualifying at threshold t takes every lead with total >= t: the lowest t that keeps the count within
    # ``room`` is just above the total of the (room+1)-th lead.
    cutoff = scored[room]
    above = scored[scored > cutoff + EPS]
    threshold = tidy(float(above.min())) if above.size else float(math.floor(cutoff) + 1)
    if threshold <= cutoff + EPS:  # tidying never lowers a threshold; whole points step past the cutoff
        threshold = float(math.floor(cutoff) + 1)
    return threshold, notes


def precision_logit(logit: np.ndarray, y: np.ndarray, blocked: np.ndarray, by_path: np.ndarray, target: float) -> float:
    """The lowest log-odds cut at which the qualifying leads' precision reaches ``target``."""
    y = np.asarray(y, dtype=bool)
    always = ~blocked & by_path
    free = ~blocked & ~by_path
    order = np.argsort(-logit[free], kind="stable")
    cuts = logit[free][order]
    hits = np.cumsum(y[free][order]) + int(y[always].sum())
    counts = np.arange(1, cuts.size + 1) + int(always.sum())
    precision = hits / counts
    last_of_tie = np.r_[cuts[1:] != cuts[:-1], True]  # a cut takes every lead tied at it
    ok = (precision >= target - EPS) & (counts >= MIN_QUALIFIED) & last_of_tie
    if not ok.any():
        eligible = (counts >= MIN_QUALIFIED) & last_of_tie
        best = float(precision[eligible].max()) if eligible.any() else float("nan")
        raise CalibrationError(
            f"no threshold reaches a precision of {target:.2f} on the training leads (out of fold); the best "
            f"with at least {MIN_QUALIFIED} MQLs is {best:.2f}: lower --target-precision or use --capacity"
        )
    return float(cuts[np.flatnonzero(ok)[-1]])
