"""Odoo's predictive lead scoring, as a baseline: naive Bayes over field-value frequencies.

Odoo CRM (``crm.lead._pls_get_naive_bayes_probabilities`` and the ``crm.lead.scoring.frequency`` table it
reads) keeps, for every (field, value) seen on a closed lead, how many leads with that value were won and
lost, each count plus 0.1 ("to avoid zero frequency issues; should be +1 but it weights too much on small
recordsets").  A lead's probability is

    S(won)  = P(won)  x  prod over its fields of  won(field, value)  / sum of won(field, *)
    S(lost) = P(lost) x  prod over its fields of  lost(field, value) / sum of lost(field, *)
    probability = round(100 x S(won) / (S(won) + S(lost)), 2) percent

where P(won) and P(lost) are the shares of won and lost leads (Odoo reads them off the first stage's
counts, which every closed lead increments, 0.1 included).  A field whose value is unset is left out of
both the counts and the product, as is a value the table has never seen.  Values are compared as text.

What Odoo has and this does not: teams (one frequency table per sales team; here there is one) and the
stage field (here there are no stages).  Odoo's fields are all categorical; a number field with many
distinct values would give every value its own frequency, so ``numbers_to_bins`` cuts such a column into
deciles first (documented in docs/calibration.md as our one adaptation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SMOOTHING = 0.1


def _unset(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and np.isnan(value))


@dataclass
class FrequencyNaiveBayes:
    """Fit on closed leads (won or lost), then give every lead a probability of being won."""

    frequencies: dict[str, dict[str, tuple[float, float]]] = field(
        default_factory=dict
    )  # field -> value -> (won, lost)
    totals: dict[str, tuple[float, float]] = field(default_factory=dict)  # field -> (won, lost) over its values
    won: float = 0.0
    lost: float = 0.0

    def fit(self, columns: Mapping[str, Sequence[Any]], won: Sequence[bool]) -> FrequencyNaiveBayes:
        outcome = np.asarray(won, dtype=bool)
        counts: dict[str, dict[str, list[int]]] = {}
        for name, values in columns.items():
            table = counts.setdefault(name, {})
            for value, is_won in zip(values, outcome, strict=True):
                if _unset(value):
                    continue
                pair = table.setdefault(str(value), [0, 0])
                pair[0 if is_won else 1] += 1
        self.frequencies = {
            name: {v: (won + SMOOTHING, lost + SMOOTHING) for v, (won, lost) in table.items()}
            for name, table in counts.items()
        }
        self.totals = {
            name: (sum(won for won, _ in table.values()), sum(lost for _, lost in table.values()))
            for name, table in self.frequencies.items()
        }
        self.won = float(outcome.sum()) + SMOOTHING
        self.lost = float((~outcome).sum()) + SMOOTHING
        return self

    def predict_proba(self, columns: Mapping[str, Sequence[Any]]) -> np.ndarray:
        """Probability of won per lead, rounded as Odoo stores it (hundredths of a percent)."""
        n = len(next(iter(columns.values()))) if columns else 0
        total = self.won + self.lost
        s_won = np.full(n, self.won / total)
        s_lost = np.full(n, self.lost / total)
        for name, values in columns.items():
            table = self.frequencies.get(name)
            if not table:
                continue
            won_total, lost_total = self.totals[name]
            if not won_total or not lost_total:
                continue
            for i, value in enumerate(values):
                if _unset(value):
                    continue
                pair = table.get(str(value))
                if pair is None:
                    continue
                s_won[i] *= pair[0] / won_total
                s_lost[i] *= pair[1] / lost_total
        return np.round(100 * s_won / (s_won + s_lost), 2) / 100


def numbers_to_bins(values: Sequence[Any], train: np.ndarray, bins: int = 10, max_distinct: int = 20) -> list[Any]:
    """A number column as text categories: itself when it has few distinct values (on the training rows),
    else its decile on the training rows.  Unset stays unset."""
    array = np.array([np.nan if _unset(v) else float(v) for v in values])
    seen = array[train][~np.isnan(array[train])]
    if np.unique(seen).size <= max_distinct:
        return [None if np.isnan(v) else repr(float(v)) for v in array]
    edges = np.unique(np.quantile(seen, np.linspace(0, 1, bins + 1)[1:-1]))
    codes = np.searchsorted(edges, array, side="right")
    return [None if np.isnan(v) else f"bin{c}" for v, c in zip(array, codes, strict=True)]
