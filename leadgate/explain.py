"""Human-readable breakdown of one lead's score: every contribution with the rule that made it."""

from __future__ import annotations

from collections.abc import Callable
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


def explain_context(
    defn: Definition, score: LeadScore, members: Callable[[str], list[tuple[str, float]]], limit: int = 10
) -> list[str]:
    """Lines on what a lead's conditions read besides its own rules: its account's roll-up (with the leads
    it comes from, most engaged first, as ``members`` gives them) and the model probabilities."""
    lines: list[str] = []
    rollup, account = defn.account, score.account
    if rollup is not None and account is not None:
        if account.account_id is None or account.engagement is None:
            lines.append("account: none (account conditions are false for a lead without an account)")
        else:
            rules = []
            if rollup.threshold is not None:
                rules.append(f"engagement ≥ {rollup.threshold:g}")
            if rollup.min_engaged_leads is not None:
                rules.append(f"≥ {rollup.min_engaged_leads} engaged")
            engaged_at = f"at {rollup.engaged_at:g} or more" if rollup.engaged_at is not None else "above 0"
            verdict = "qualifies" if account.qualified else "does not qualify"
            lines.append(
                f"account {account.account_id}: engagement {account.engagement:.2f}, {account.engaged_leads} "
                f"engaged lead(s) ({engaged_at}): {verdict} ({' and '.join(rules)})"
            )
            ranked = sorted(members(account.account_id), key=lambda m: (-m[1], m[0]))
            shown = ", ".join(f"{lead_id} {engagement:+.2f}" for lead_id, engagement in ranked[:limit])
            more = f", … and {len(ranked) - limit} more" if len(ranked) > limit else ""
            lines.append(f"  from its leads: {shown}{more}")
    for model, probability in score.predicted.items():
        value = "no prediction" if probability is None else f"{probability:.4g}"
        lines.append(f"predicted {model}: {value} (the latest scored at or before the as-of time)")
    return lines
