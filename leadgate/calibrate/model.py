"""The model behind the points: an L1-regularized logistic regression over the candidate features.

Ordered blocks (a number trait's bins) are re-expressed as *steps*: "in this bin or a higher one".  The L1
penalty then falls on the jumps between neighbouring bins, so a fitted number trait is a step function
with few steps, and neighbouring bins that end up with the same points merge into one rule.  Features that
are not 0/1 (the current definition's per-occurrence or decayed rules) are standardized for the fit and the
weights scaled back.  The penalty strength C is chosen by stratified k-fold cross-validation on the
training leads (the "one standard error" rule: the strongest penalty whose mean log-loss is within one
standard error of the lowest); the out-of-fold predictions at that C are kept, because choosing a
threshold for a target precision on in-sample predictions would promise more than held-out leads give.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

from leadgate.calibrate.candidates import Candidate, blocks
from leadgate.errors import CalibrationError

#: The penalty strengths tried (inverse: small C, strong penalty, few rules).
CS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
FOLDS = 5


def design(candidates: Sequence[Candidate]) -> np.ndarray:
    """M (candidates x model columns): model features are ``X @ M``, candidate weights are ``M @ coef``.

    The lowest bin of an ordered block has no column of its own (it is the base every step starts from);
    each higher bin k has a step column "bin >= k"; unordered members (missing, other, text values)
    and candidates outside blocks are their own column."""
    p = len(candidates)
    columns: list[np.ndarray] = []
    in_ordered_block: set[int] = set()
    for members in blocks(candidates).values():
        ordered = sorted((candidates[i].order, i) for i in members if candidates[i].order is not None)
        if len(ordered) < 2:
            continue
        positions = [i for _, i in ordered]
        in_ordered_block.update(positions)
        for k in range(1, len(positions)):
            col = np.zeros(p)
            col[positions[k:]] = 1.0
            columns.append(col)
    for i in range(p):
        if i not in in_ordered_block:
            col = np.zeros(p)
            col[i] = 1.0
            columns.append(col)
    return np.column_stack(columns) if columns else np.zeros((p, 0))


@dataclass
class Fit:
    """A fitted model: a weight per candidate (log-odds per unit of its feature) and the intercept."""

    weights: np.ndarray
    intercept: float
    C: float
    cv: list[tuple[float, float, float]]  # (C, mean log-loss, standard deviation) per C tried
    oof: np.ndarray  # out-of-fold log-odds of every training lead at the chosen C
    folds: int

    def logit(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X @ self.weights + self.intercept)


def _logistic(C: float, seed: int) -> LogisticRegression:
    # liblinear penalizes the intercept too; a large intercept_scaling makes that penalty negligible.
    return LogisticRegression(
        C=C, l1_ratio=1.0, solver="liblinear", intercept_scaling=10.0, max_iter=2000, random_state=seed
    )


def _fit_one(Z: np.ndarray, y: np.ndarray, C: float, seed: int) -> tuple[np.ndarray, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = _logistic(C, seed).fit(Z, y)
    return model.coef_[0].copy(), float(model.intercept_[0])


def one_standard_error(cv: Sequence[tuple[float, float, float]], folds: int) -> float:
    """The strongest penalty (smallest C) whose mean loss is within one standard error of the best one's:
    as good as the best within the noise of cross-validation, with fewer rules (glmnet's "lambda.1se")."""
    _, loss_best, sd_best = min(cv, key=lambda r: (r[1], r[0]))
    limit = loss_best + sd_best / np.sqrt(max(folds, 1))
    return min(c for c, loss, _ in cv if loss <= limit)


def check_labels(y: np.ndarray, minimum: int = 2) -> None:
    positives, negatives = int(y.sum()), int((~y.astype(bool)).sum())
    if positives < minimum or negatives < minimum:
        raise CalibrationError(
            f"too few leads to learn from: {positives} positive and {negatives} negative in the training "
            f"split (need at least {minimum} of each); use more data, a longer --horizon or an earlier --as-of"
        )


def fit(
    X: np.ndarray,
    y: np.ndarray,
    candidates: Sequence[Candidate],
    *,
    Cs: Sequence[float] = CS,
    folds: int = FOLDS,
    seed: int = 0,
    C: float | None = None,
) -> Fit:
    """Fit on the training leads: C by cross-validation (unless given), then the model on all of them."""
    y = np.asarray(y).astype(int)
    check_labels(y)
    M = design(candidates)
    Z = X @ M
    binary = np.all((Z == 0) | (Z == 1), axis=0)
    scale = np.where(binary, 1.0, Z.std(axis=0))
    scale[scale == 0] = 1.0
    Z = Z / scale
    k = int(min(folds, y.sum(), (1 - y).sum()))
    splitter = StratifiedKFold(n_splits=max(k, 2), shuffle=True, random_state=seed)
    splits = list(splitter.split(Z, y))
    grid = [C] if C is not None else list(Cs)
    cv: list[tuple[float, float, float]] = []
    oof_by_c: dict[float, np.ndarray] = {}
    for c in grid:
        oof = np.zeros(len(y))
        losses = []
        for train, test in splits:
            coef, b = _fit_one(Z[train], y[train], c, seed)
            oof[test] = Z[test] @ coef + b
            losses.append(log_loss(y[test], 1 / (1 + np.exp(-oof[test])), labels=[0, 1]))
        cv.append((c, float(np.mean(losses)), float(np.std(losses))))
        oof_by_c[c] = oof
    best = one_standard_error(cv, len(splits))
    coef, b = _fit_one(Z, y, best, seed)
    return Fit(weights=M @ (coef / scale), intercept=b, C=best, cv=cv, oof=oof_by_c[best], folds=len(splits))
