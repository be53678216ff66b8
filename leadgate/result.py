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


@dataclass(frozen=True)
class AccountState:
    """The lead's account as scoring saw it (definitions with an ``account:`` section).

    ``engagement`` and ``engaged_leads`` are None for a lead without an account."""

    account_id: str | None
    engagement: float | None
    engaged_leads: int | None
    qualified: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "engagement": self.engagement,
            "engaged_leads": self.engaged_leads,
            "qualified": self.qualified,
        }


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
    #: Account roll-up, when the definition has an ``account:`` section.
    account: AccountState | None = None
    #: Model name -> the probability the definition's ``predicted`` conditions read (None: no prediction).
    predicted: dict[str, float | None] = field(default_factory=dict)

    @property
    def matrix(self) -> str:
        return f"{self.grade}{self.level}"

    def to_dict(self) -> dict[str, Any]:
        out = {
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
        if self.account is not None:
            out["account"] = self.account.to_dict()
        if self.predicted:
            out["predicted"] = dict(self.predicted)
        return out


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
    diffs += _same_account(a.account, b.account, tol)
    if a.predicted != b.predicted:  # probabilities are read, never computed: equal exactly
        diffs.append(f"predicted: {a.predicted!r} != {b.predicted!r}")
    if set(a.contributions) != set(b.contributions):
        diffs.append(f"contribution keys: {sorted(a.contributions)} != {sorted(b.contributions)}")
    else:
        for key, ca in a.contributions.items():
            cb = b.contributions[key]
            if ca.count != cb.count or abs(ca.points - cb.points) > tol:
                diffs.append(f"{key}: {ca} != {cb}")
    return diffs


def _same_account(a: AccountState | None, b: AccountState | None, tol: float) -> list[str]:
    if a is None or b is None:
        return [] if a is b else [f"account: {a!r} != {b!r}"]
    same_engagement = (a.engagement is None) == (b.engagement is None) and (
        a.engagement is None or b.engagement is None or abs(a.engagement - b.engagement) <= tol
    )
    same_rest = (a.account_id, a.engaged_leads, a.qualified) == (b.account_id, b.engaged_leads, b.qualified)
    if not same_rest or not same_engagement:
        return [f"account: {a!r} != {b!r}"]
    return []
