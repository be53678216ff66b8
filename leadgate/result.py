"""What scoring returns: one LeadScore per lead (see docs/semantics.md, "Output per lead")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Tolerance for float comparison of scores between engines and the reference evaluator.
SCORE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Contribution:
    count: int
    points: float


@dataclass
class LeadScore:
    lead_id: str
    fit: float
    engagement: float
    total: float
    qualified: bool
    qualified_by: list[str] = field(default_factory=list)
    disqualify_reasons: list[str] = field(default_factory=list)
    failed_requirements: list[str] = field(default_factory=list)
    grade: str = "D"
    level: int = 4
    mql_types: list[str] = field(default_factory=list)
    contributions: dict[str, Contribution] = field(default_factory=dict)

    @property
    def matrix(self) -> str:
        return f"{self.grade}{self.level}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "fit": self.fit,
            "engagement": self.engagement,
            "total": self.total,
            "qualified": self.qualified,
            "qualified_by": self.qualified_by,
            "disqualify_reasons": self.disqualify_reasons,
            "failed_requirements": self.failed_requirements,
            "grade": self.grade,
            "level": self.level,
            "matrix": self.matrix,
            "mql_types": self.mql_types,
            "contributions": {k: {"count": c.count, "points": c.points} for k, c in self.contributions.items()},
        }


def same_scores(a: LeadScore, b: LeadScore, tol: float = SCORE_TOLERANCE) -> list[str]:
    """Differences between two results for one lead (empty when equal under the contract)."""
    diffs: list[str] = []
    for name in (
        "lead_id",
        "qualified",
        "qualified_by",
        "disqualify_reasons",
        "failed_requirements",
        "grade",
        "level",
        "mql_types",
    ):
        if getattr(a, name) != getattr(b, name):
            diffs.append(f"{name}: {getattr(a, name)!r} != {getattr(b, name)!r}")
    for name in ("fit", "engagement", "total"):
        if abs(getattr(a, name) - getattr(b, name)) > tol:
            diffs.append(f"{name}: {getattr(a, name)!r} != {getattr(b, name)!r}")
    if set(a.contributions) != set(b.contributions):
        diffs.append(f"contribution keys: {sorted(a.contributions)} != {sorted(b.contributions)}")
    else:
        for key, ca in a.contributions.items():
            cb = b.contributions[key]
            if ca.count != cb.count or abs(ca.points - cb.points) > tol:
                diffs.append(f"{key}: {ca} != {cb}")
    return diffs
