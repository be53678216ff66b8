"""Human-readable breakdown of one lead's score: every contribution with the rule that made it."""

from __future__ import annotations

from dataclasses import dataclass

from leadgate.definition.durations import format_duration
from leadgate.definition.model import Definition, EngagementRule, FitRule
from leadgate.result import LeadScore


@dataclass(frozen=True)
class ExplainRow:
    rule: str
    kind: str  # fit | engagement | group
    count: int
    points: float
    why: str


def describe(defn: Definition, rule: FitRule | EngagementRule) -> str:
    if rule.description:
        return rule.description
    if isinstance(rule, FitRule):
        return f"fit: {rule.points:+g} when the condition holds"
    parts = [f"{'/'.join(rule.events)}"]
    if rule.where:
        parts.append("where " + " and ".join(f"{p.field} {p.op} {p.value!r}" for p in rule.where))
    if rule.min_count > 1:
        parts.append(f"at least {rule.min_count}×")
    if rule.within:
        parts.append(f"within {format_duration(rule.within)}")
    parts.append(f"{rule.points:+g} {'once' if rule.per == 'once' else 'each'}")
    h = defn.half_life(rule)
    if h:
        parts.append(f"half-life {format_duration(h)}")
    if rule.cap:
        parts.append(f"cap {rule.cap:g}")
    return ", ".join(parts)


def explain_rows(defn: Definition, score: LeadScore) -> list[ExplainRow]:
    rows: list[ExplainRow] = []
    for rule in defn.rules:
        c = score.contributions.get(rule.id)
        if c is None:
            continue
        kind = "fit" if isinstance(rule, FitRule) else "engagement"
        rows.append(ExplainRow(rule.id, kind, c.count, c.points, describe(defn, rule)))
    for name, group in defn.groups.items():
        c = score.contributions.get(f"group:{name}")
        if c is not None and c.points:
            rows.append(ExplainRow(f"group:{name}", "group", 0, c.points, f"group capped at {group.cap:g}"))
    return rows
