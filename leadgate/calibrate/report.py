"""What calibration measured, for the current and the proposed definition on the held-out leads.

Every number is defined in docs/calibration.md: ROC AUC of the total score, precision and recall of the
MQL decision, MQLs on the held-out leads and per week.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

DAY = 86_400.0


@dataclass
class Metrics:
    """One definition on one set of leads."""

    definition: str
    leads: int
    positives: int
    auc: float | None  # of the total score; None when only one class is present
    mqls: int
    precision: float | None  # of the MQLs, the share that converted
    recall: float | None  # of the converted, the share that were MQLs
    mqls_per_week: float | None  # scaled up to every lead of the population (see docs/calibration.md)


def measure(name: str, score: np.ndarray, qualified: np.ndarray, y: np.ndarray, per_week: float | None) -> Metrics:
    y = np.asarray(y, dtype=bool)
    both = 0 < y.sum() < y.size
    mqls = int(qualified.sum())
    hits = int((qualified & y).sum())
    return Metrics(
        definition=name,
        leads=int(y.size),
        positives=int(y.sum()),
        auc=float(roc_auc_score(y, score)) if both else None,
        mqls=mqls,
        precision=hits / mqls if mqls else None,
        recall=hits / int(y.sum()) if y.sum() else None,
        mqls_per_week=mqls * per_week if per_week is not None else None,
    )


@dataclass
class Report:
    outcome: str
    as_of: float
    horizon: float | None
    timed: bool
    population: int
    positives: int
    converted_before: int
    created_after: int
    train: tuple[int, int]  # leads, positives
    test: tuple[int, int]
    weeks: float | None  # the span the population's leads were created over
    candidates: dict[str, int]
    rules: int
    C: float
    cv: list[tuple[float, float, float]]
    folds: int
    points_to_double: float
    threshold: float
    threshold_rule: str
    current: Metrics
    proposed: Metrics
    reproduced: bool  # the proposed YAML, scored by its compiled SQL, gives exactly the fitted points
    max_difference: float
    seed: int
    test_size: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["as_of"] = iso(self.as_of)
        return out

    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        """(definition, ROC AUC, precision, recall, MQLs, MQLs per week) for the held-out leads."""
        return [
            (m.definition, fmt(m.auc, ".3f"), fmt(m.precision, ".3f"), fmt(m.recall, ".3f"), str(m.mqls),
             fmt(m.mqls_per_week, ".1f"))
            for m in (self.current, self.proposed)
        ]  # fmt: skip

    def summary_lines(self) -> list[str]:
        horizon = "any time after it" if self.horizon is None else f"within {self.horizon / DAY:g} days after it"
        timing = (
            f"features as of {iso(self.as_of)}; outcome '{self.outcome}' {horizon}"
            if self.timed
            else f"features as of {iso(self.as_of)}; outcome '{self.outcome}' as recorded (no outcome times)"
        )
        lines = [
            timing,
            f"population: {self.population:,} leads, {self.positives:,} converted"
            + (f"; left out: {self.converted_before:,} converted before the as-of instant" if self.timed else "")
            + (f", {self.created_after:,} created after it" if self.created_after else ""),
            f"split by lead, stratified (seed {self.seed}): training {self.train[0]:,} ({self.train[1]:,} converted), "
            f"held-out {self.test[0]:,} ({self.test[1]:,} converted)",
            f"candidates: {', '.join(f'{n} {k}' for k, n in self.candidates.items())}; rules kept: {self.rules}",
            f"model: L1 logistic regression, C = {self.C:g} by {self.folds}-fold CV (log-loss); "
            f"{self.points_to_double:g} points double the odds",
            f"threshold {self.threshold:g}: {self.threshold_rule}",
            "the proposed YAML reproduces the fitted points on every lead"
            if self.reproduced
            else f"WARNING: the proposed YAML differs from the fitted points by up to {self.max_difference:g}",
        ]
        if self.weeks is not None:
            lines.append(f"MQLs per week: over the {self.weeks:.1f} weeks the population's leads were created in")
        return lines + [f"note: {n}" for n in self.notes]

    def markdown(self, title: str = "Calibration report") -> str:
        out = [f"# {title}", ""]
        out += [f"- {line}" for line in self.summary_lines()]
        out += ["", "Held-out leads:", "", "| definition | ROC AUC | precision | recall | MQLs | MQLs per week |"]
        out.append("|---|---|---|---|---|---|")
        out += ["| " + " | ".join(r) + " |" for r in self.rows()]
        out += ["", "Cross-validation (training leads):", "", "| C | mean log-loss | sd |", "|---|---|---|"]
        out += [f"| {c:g} | {m:.4f} | {s:.4f} |" for c, m, s in self.cv]
        return "\n".join(out) + "\n"


def fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")
