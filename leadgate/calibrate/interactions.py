"""Pairs of traits that matter together: a few interaction rules (``when: {all: [A, B]}``) on top of the
additive model, chosen the way GA²M does (Lou et al., KDD 2013, "FAST").

Each trait is cut coarsely (number bins grouped into at most four ranges, text into its three most common
values and the rest).  For every pair of traits, the cells of the two cuts are scored against the residuals
of the main-effects model: a cell's log-likelihood gain from one Newton step is ``g² / 2h`` (``g`` the sum of
``y − p``, ``h`` the sum of ``p(1 − p)`` over its leads), less one for the parameter it costs.  The best
``k`` pairs become candidates, one rule per cell (cells of "the rest" stay the baseline), and the model is
refit with them; the L1 penalty and rounding decide which survive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from leadgate.calibrate.candidates import Candidate, Ids, Limits, blocks, interval_condition, interval_label
from leadgate.calibrate.model import Fit

COARSE_RANGES = 4
COARSE_VALUES = 3


@dataclass
class Coarse:
    """A trait cut coarsely: each lead's cell, and the condition and label of each explicit cell."""

    field: str
    code: np.ndarray  # per training lead; the last code is "the rest"
    conditions: list[dict[str, Any]]
    labels: list[str]

    @property
    def size(self) -> int:
        return len(self.conditions) + 1


def coarse_traits(candidates: Sequence[Candidate], X: np.ndarray) -> list[Coarse]:
    out: list[Coarse] = []
    for members in blocks(candidates).values():
        first = candidates[members[0]]
        if first.source != "trait":
            continue
        level = np.full(X.shape[0], -1)
        for k, i in enumerate(members):
            level[X[:, i] != 0] = k
        ordered = [k for k, i in enumerate(members) if candidates[i].order is not None]
        conditions: list[dict[str, Any]] = []
        labels: list[str] = []
        code = np.full(X.shape[0], -1)
        if len(ordered) >= 2:
            share = np.array([(level == k).mean() for k in ordered])
            edges = np.searchsorted(
                np.cumsum(share) / max(share.sum(), 1e-12), np.linspace(0, 1, COARSE_RANGES + 1)[1:-1]
            )
            groups = np.split(np.array(ordered), np.unique(np.clip(edges + 1, 1, len(ordered) - 1)))
            for g in groups:
                lo = candidates[members[g[0]]].interval
                hi = candidates[members[g[-1]]].interval
                assert lo is not None and hi is not None
                code[np.isin(level, g)] = len(conditions)
                conditions.append(interval_condition(first.field, lo[0], hi[1]))
                labels.append(interval_label(first.field, lo[0], hi[1]))
        else:
            counts = [(int((level == k).sum()), k) for k in range(len(members))]
            for _, k in sorted(counts, reverse=True)[:COARSE_VALUES]:
                code[level == k] = len(conditions)
                conditions.append(candidates[members[k]].rule["when"])
                labels.append(candidates[members[k]].label)
        code[code < 0] = len(conditions)
        out.append(Coarse(first.field, code, conditions, labels))
    return out


def pair_gains(
    traits: Sequence[Coarse], y: np.ndarray, logit: np.ndarray, support: int
) -> list[tuple[float, int, int]]:
    """(net gain, i, j) for every pair of traits, best first."""
    p = 1 / (1 + np.exp(-logit))
    g_all, h_all = y - p, p * (1 - p)
    out: list[tuple[float, int, int]] = []
    for i in range(len(traits)):
        for j in range(i + 1, len(traits)):
            a, b = traits[i], traits[j]
            cell = a.code * b.size + b.code
            n = a.size * b.size
            count = np.bincount(cell, minlength=n)
            g = np.bincount(cell, g_all, minlength=n)
            h = np.bincount(cell, h_all, minlength=n)
            ok = count >= support
            gain = float(np.sum(g[ok] ** 2 / (2 * h[ok] + 1e-9)) - ok.sum())
            out.append((gain, i, j))
    out.sort(key=lambda x: -x[0])
    return out


def _both(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    parts = [*(a["all"] if set(a) == {"all"} else [a]), *(b["all"] if set(b) == {"all"} else [b])]
    return {"all": parts}


def interaction_candidates(
    candidates: Sequence[Candidate], X: np.ndarray, y: np.ndarray, fit: Fit, k: int, ids: Ids, limits: Limits
) -> list[Candidate]:
    """Rules for the cells of the ``k`` trait pairs with the largest net gain (none that gain nothing)."""
    traits = coarse_traits(candidates, X)
    support = limits.support(X.shape[0])
    out: list[Candidate] = []
    for gain, i, j in pair_gains(traits, y.astype(float), fit.logit(X), support)[:k]:
        if gain <= 0:
            break
        a, b = traits[i], traits[j]
        for ca in range(a.size - 1):
            for cb in range(b.size - 1):
                if int(((a.code == ca) & (b.code == cb)).sum()) < support:
                    continue
                out.append(
                    Candidate(
                        id=ids.make(a.field, b.field, f"{ca}{cb}"),
                        kind="fit",
                        rule={"when": _both(a.conditions[ca], b.conditions[cb])},
                        label=f"{a.labels[ca]} and {b.labels[cb]}",
                        source="interaction",
                        field=f"{a.field} x {b.field}",
                    )
                )
    return out
