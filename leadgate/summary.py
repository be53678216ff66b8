"""Summary of a scoring run: volume, MQL rate, types, disqualify reasons, score distribution."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


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


def histogram(values: Sequence[float] | np.ndarray, bins: int = 8) -> list[tuple[str, int]]:
    """Equal-width buckets between the lowest and highest total."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return []
    lo, hi = float(arr.min()), float(arr.max())
    if hi == lo:
        return [(f"{lo:g}", int(arr.size))]
    counts, edges = np.histogram(arr, bins=bins, range=(lo, hi))
    return [(f"[{edges[i]:.0f}, {edges[i + 1]:.0f})", int(c)) for i, c in enumerate(counts)]
