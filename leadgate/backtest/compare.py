"""Two definitions on the same history: which leads change hands, and whether quality or only volume moves.

A rate difference counts as a change only when it is unlikely to be noise: a two-sided test at the 5 %
level (two-proportion z-test for MQL→SQL and MQL→customer, Welch's z for revenue per MQL).  The two MQL
sets overlap, so treating them as independent samples is conservative: a difference reported as
significant is at least that significant.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from statistics import median
from typing import Any

from leadgate.backtest.report import DefinitionReport, Metrics, MqlRecord, metrics

ALPHA = 0.05


@dataclass
class Delta:
    """One metric under the baseline and under the definition, and whether the difference is real."""

    metric: str
    label: str
    baseline: float | None
    value: float | None
    difference: float | None
    p_value: float | None
    verdict: str  # "better", "worse", "no clear change", or "not measurable"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Comparison:
    gained: list[str]  # MQLs of the definition that the baseline never made MQLs by the end
    lost: list[str]  # MQLs of the baseline that the definition never made MQLs by the end
    in_both: int  # first qualified in the range under both
    earlier: int  # … and earlier under the definition
    later: int
    median_shift_days: float | None  # definition's MQL instant − baseline's, over leads in both
    gained_metrics: Metrics
    lost_metrics: Metrics
    volume: Delta
    quality: list[Delta]
    verdict: str  # "better quality", "worse quality", "mixed", "volume only", "no change", "volume (no outcomes)"
    summary: str  # the verdict in plain words
    details: list[str] = field(default_factory=list)
    #: Per period (1-based, in order): gained leads the definition made MQLs in that period, and lost leads
    #: the baseline made MQLs in that period.  They sum to ``len(gained)`` and ``len(lost)``.
    gained_by_period: list[int] = field(default_factory=list)
    lost_by_period: list[int] = field(default_factory=list)

    def to_dict(self, *, with_leads: bool = True) -> dict[str, Any]:
        out = asdict(self)
        if not with_leads:
            out["gained"], out["lost"] = len(self.gained), len(self.lost)
        out["gained_metrics"] = self.gained_metrics.to_dict()
        out["lost_metrics"] = self.lost_metrics.to_dict()
        out["volume"] = self.volume.to_dict()
        out["quality"] = [d.to_dict() for d in self.quality]
        return out


def _p_proportions(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value of a two-proportion z-test (pooled); None when it cannot be computed."""
    if not n1 or not n2:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def _p_means(a: list[float], b: list[float]) -> float | None:
    """Two-sided p-value of Welch's z for a difference of means (large samples)."""
    if len(a) < 2 or len(b) < 2:
        return None
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    va = sum((x - ma) ** 2 for x in a) / (len(a) - 1)
    vb = sum((x - mb) ** 2 for x in b) / (len(b) - 1)
    se = math.sqrt(va / len(a) + vb / len(b))
    if se == 0:
        return 1.0 if ma == mb else 0.0
    return math.erfc(abs(ma - mb) / se / math.sqrt(2))


def _delta(metric: str, label: str, base: float | None, value: float | None, p: float | None) -> Delta:
    if base is None or value is None or p is None:
        return Delta(metric, label, base, value, None, p, "not measurable")
    diff = value - base
    verdict = "no clear change" if p >= ALPHA or diff == 0 else ("better" if diff > 0 else "worse")
    return Delta(metric, label, base, value, diff, p, verdict)


def _fmt(metric: str, v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.0f}" if metric == "revenue_per_mql" else f"{v:.1%}"


def compare(definition: DefinitionReport, baseline: DefinitionReport, with_outcomes: bool) -> Comparison:
    """``definition`` against ``baseline`` over the same snapshots and history."""
    mine = {m.lead_id: m for m in definition.mqls}
    theirs = {m.lead_id: m for m in baseline.mqls}
    gained = sorted(set(mine) - set(theirs))
    lost = sorted(set(theirs) - set(mine))
    both = sorted(set(mine) & set(theirs))
    shifts = [(mine[i].mql_at - theirs[i].mql_at) / 86400 for i in both]
    a, b = definition.total, baseline.total
    volume = Delta(
        "mqls", "MQL volume", float(b.mqls), float(a.mqls), float(a.mqls - b.mqls), None,
        "more" if a.mqls > b.mqls else "fewer" if a.mqls < b.mqls else "same",
    )  # fmt: skip

    def subset(records: dict[str, MqlRecord], ids: list[str]) -> Metrics:
        return metrics([records[i] for i in ids], 0, 0, with_outcomes)

    quality: list[Delta] = []
    if with_outcomes:
        assert a.sqls is not None and b.sqls is not None and a.customers is not None and b.customers is not None
        quality.append(
            _delta("sql_rate", "MQL→SQL", b.sql_rate, a.sql_rate, _p_proportions(a.sqls, a.mqls, b.sqls, b.mqls))
        )
        quality.append(
            _delta(
                "customer_rate",
                "MQL→customer",
                b.customer_rate,
                a.customer_rate,
                _p_proportions(a.customers, a.mqls, b.customers, b.mqls),
            )
        )

        def revenues(report: DefinitionReport) -> list[float]:
            return [(r.revenue or 0.0) if r.won and not r.already_sql else 0.0 for r in report.mqls]

        p = _p_means(revenues(definition), revenues(baseline))
        quality.append(_delta("revenue_per_mql", "revenue per MQL", b.revenue_per_mql, a.revenue_per_mql, p))
    periods = len(definition.periods)
    comparison = Comparison(
        gained=gained,
        lost=lost,
        in_both=len(both),
        earlier=sum(1 for s in shifts if s < 0),
        later=sum(1 for s in shifts if s > 0),
        median_shift_days=median(shifts) if shifts else None,
        gained_metrics=subset(mine, gained),
        lost_metrics=subset(theirs, lost),
        volume=volume,
        quality=quality,
        verdict="",
        summary="",
        gained_by_period=_by_period([mine[i] for i in gained], periods),
        lost_by_period=_by_period([theirs[i] for i in lost], periods),
    )
    _judge(comparison, definition, baseline, with_outcomes)
    return comparison


def _by_period(records: list[MqlRecord], periods: int) -> list[int]:
    counts = [0] * periods
    for r in records:
        counts[r.period - 1] += 1
    return counts


def _judge(c: Comparison, definition: DefinitionReport, baseline: DefinitionReport, with_outcomes: bool) -> None:
    a, b = definition.total.mqls, baseline.total.mqls
    change = f"{a - b:+,} ({(a - b) / b:+.1%})" if b else f"{a - b:+,}"
    name, base = definition.label, baseline.label
    volume = f"{name} makes {a:,} MQLs against {b:,} for {base}: {change}"
    c.details.append(
        f"gained {len(c.gained):,} leads, lost {len(c.lost):,}; {c.in_both:,} qualify under both "
        f"({c.earlier:,} earlier, {c.later:,} later"
        + (f", median shift {c.median_shift_days:+.1f} days)" if c.median_shift_days is not None else ")")
    )
    if not with_outcomes:
        c.verdict = "volume (no outcomes)"
        c.summary = f"{volume}. No outcomes were given, so only volume can be compared."
        return
    for d in c.quality:
        c.details.append(f"{d.label}: {_fmt(d.metric, d.baseline)} → {_fmt(d.metric, d.value)} ({d.verdict})")
    g, lo = c.gained_metrics, c.lost_metrics
    if c.gained or c.lost:
        c.details.append(
            f"the gained leads convert to SQL at {_fmt('sql_rate', g.sql_rate)} and to customer at "
            f"{_fmt('customer_rate', g.customer_rate)}; the lost ones at {_fmt('sql_rate', lo.sql_rate)} and "
            f"{_fmt('customer_rate', lo.customer_rate)}"
        )
    better = [d.label for d in c.quality if d.verdict == "better"]
    worse = [d.label for d in c.quality if d.verdict == "worse"]
    if better and worse:
        c.verdict = "mixed"
        c.summary = f"{volume}. Mixed: {_verb(better, 'improves', 'improve')} but {_verb(worse, 'falls', 'fall')}."
    elif better:
        c.verdict = "better quality"
        c.summary = f"{volume}. It improves lead quality: {_verb(better, 'rises', 'rise')} significantly."
    elif worse:
        c.verdict = "worse quality"
        c.summary = f"{volume}. It lowers lead quality: {_verb(worse, 'falls', 'fall')} significantly."
    elif a != b:
        c.verdict = "volume only"
        c.summary = (
            f"{volume}. Only volume changes: MQL→SQL, MQL→customer and revenue per MQL show no significant difference."
        )
    else:
        c.verdict = "no change"
        c.summary = f"{volume}. Neither volume nor lead quality changes measurably."


def _verb(labels: list[str], one: str, many: str) -> str:
    """``MQL→SQL rises``, ``MQL→SQL and revenue per MQL rise``."""
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"{names} {one if len(labels) == 1 else many}"
