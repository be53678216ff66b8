"""Summary of a scoring run: volume, MQL rate, types, disqualify reasons, score distribution."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from leadgate.result import LeadScore


@dataclass
class Summary:
    leads: int
    mqls: int
    by_type: dict[str, int] = field(default_factory=dict)
    by_path: dict[str, int] = field(default_factory=dict)
    by_disqualify_reason: dict[str, int] = field(default_factory=dict)
    by_failed_requirement: dict[str, int] = field(default_factory=dict)
    by_matrix: dict[str, int] = field(default_factory=dict)
    total_quantiles: dict[str, float] = field(default_factory=dict)
    histogram: list[tuple[str, int]] = field(default_factory=list)

    @property
    def mql_rate(self) -> float:
        return self.mqls / self.leads if self.leads else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "leads": self.leads,
            "mqls": self.mqls,
            "mql_rate": self.mql_rate,
            "by_type": self.by_type,
            "by_path": self.by_path,
            "by_disqualify_reason": self.by_disqualify_reason,
            "by_failed_requirement": self.by_failed_requirement,
            "by_matrix": self.by_matrix,
            "total_quantiles": self.total_quantiles,
            "histogram": [{"range": r, "leads": n} for r, n in self.histogram],
        }


def _quantile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return 0.0
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _histogram(values: list[float], bins: int = 8) -> list[tuple[str, int]]:
    if not values:
        return []
    lo, hi = min(values), max(values)
    if hi == lo:
        return [(f"{lo:g}", len(values))]
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / width), bins - 1)] += 1
    return [(f"[{lo + i * width:.0f}, {lo + (i + 1) * width:.0f})", c) for i, c in enumerate(counts)]


def summarize(scores: list[LeadScore]) -> Summary:
    mqls = [s for s in scores if s.qualified]
    types: Counter[str] = Counter(t for s in mqls for t in s.mql_types)
    totals = sorted(s.total for s in scores)
    return Summary(
        leads=len(scores),
        mqls=len(mqls),
        by_type=dict(types.most_common()),
        by_path=dict(Counter(p for s in mqls for p in s.qualified_by).most_common()),
        by_disqualify_reason=dict(Counter(r for s in scores for r in s.disqualify_reasons).most_common()),
        by_failed_requirement=dict(Counter(r for s in scores for r in s.failed_requirements).most_common()),
        by_matrix=dict(sorted(Counter(s.matrix for s in scores).items())),
        total_quantiles={f"p{int(q * 100)}": _quantile(totals, q) for q in (0.1, 0.25, 0.5, 0.75, 0.9, 0.99)},
        histogram=_histogram(totals),
    )
