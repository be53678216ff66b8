"""The reference evaluator: docs/semantics.md in plain Python.

This is the test oracle every engine is compared with.  Clarity beats speed here; it is still linear in
the number of events (events are grouped by lead once).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from functools import lru_cache
from typing import Any

from leadgate.definition.model import (
    MAX_HALF_LIVES,
    AccountQualifiedCond,
    AllCond,
    AnyCond,
    Condition,
    Definition,
    EngagementRule,
    EventCond,
    FitRule,
    NotCond,
    Predicate,
    PredictedCond,
    ScoreCond,
    SignalCond,
    field_key,
)
from leadgate.inputs.dataset import Dataset
from leadgate.result import AccountState, Contribution, LeadScore

EPS = 1e-9

Row = dict[str, Any]


@lru_cache(maxsize=256)
def _regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII | (re.IGNORECASE if ignore_case else 0))


def test_predicate(pred: Predicate, value: Any) -> bool:
    """Two-valued: a missing value fails every operator but ``missing``."""
    op = pred.op
    if op == "missing":
        return value is None
    if value is None:
        return False
    if op == "exists":
        return True
    operand = pred.value
    if pred.ignore_case and op != "matches":
        value = value.lower()
        operand = tuple(v.lower() for v in operand) if isinstance(operand, tuple) else operand.lower()
    if op == "equals":
        return bool(value == operand)
    if op == "not_equals":
        return bool(value != operand)
    if op == "in":
        return value in operand
    if op == "not_in":
        return value not in operand
    if op == "between":
        return bool(operand[0] <= value <= operand[1])
    if op == "gt":
        return bool(value > operand)
    if op == "gte":
        return bool(value >= operand)
    if op == "lt":
        return bool(value < operand)
    if op == "lte":
        return bool(value <= operand)
    if op == "matches":
        return _regex(operand, pred.ignore_case).search(value) is not None
    if op == "starts_with":
        return any(value.startswith(v) for v in operand)
    if op == "ends_with":
        return any(value.endswith(v) for v in operand)
    if op == "contains":
        return any(v in value for v in operand)
    raise AssertionError(op)


def compare_score(score: float | None, op: str, value: float) -> bool:
    if score is None:  # a lead without an account has no account engagement
        return False
    if op == "gte":
        return score >= value - EPS
    if op == "gt":
        return score > value + EPS
    if op == "lte":
        return score <= value + EPS
    if op == "lt":
        return score < value - EPS
    raise AssertionError(op)


class _Lead:
    """One lead's traits and events, and what has been computed for it so far."""

    def __init__(self, defn: Definition, row: Row, account: Row | None, events: list[Row], as_of: float):
        self.defn = defn
        self.row = row
        self.account = account or {}
        self.events = events
        self.as_of = as_of
        self.fit_hits: dict[str, bool] = {}
        self.scores: dict[str, float | None] = {}
        self.contributions: dict[str, Contribution] = {}
        self.account_state: AccountState | None = None
        self.predicted: dict[str, float | None] = {}

    def field(self, pred: Predicate) -> Any:
        table, column = field_key(pred)
        source = self.row if table == "leads" else self.account
        return source.get(column)

    def matching(self, cond: EventCond) -> list[Row]:
        # Window bounds compare instants exactly, in whole microseconds (as the SQL's timestamp literals do).
        low = _us(self.as_of) - _us(cond.within) if cond.within is not None else None
        out = []
        for e in self.events:
            if e["event"] not in cond.events:
                continue
            if low is not None and not _us(e["ts"]) > low:
                continue
            if all(test_predicate(p, e.get(p.field)) for p in cond.where):
                out.append(e)
        return out

    def fired(self, rule: FitRule | EngagementRule) -> bool:
        if isinstance(rule, FitRule):
            return self.fit_hits[rule.id]
        return len(self.matching(rule.match)) >= rule.min_count

    def holds(self, cond: Condition) -> bool:
        if isinstance(cond, Predicate):
            return test_predicate(cond, self.field(cond))
        if isinstance(cond, AllCond):
            return all(self.holds(c) for c in cond.all)
        if isinstance(cond, AnyCond):
            return any(self.holds(c) for c in cond.any)
        if isinstance(cond, NotCond):
            return not self.holds(cond.not_)
        if isinstance(cond, EventCond):
            return len(self.matching(cond)) >= cond.min_count
        if isinstance(cond, SignalCond):
            return self.fired(self.defn.rule(cond.signal))
        if isinstance(cond, ScoreCond):
            return compare_score(self.scores[cond.score], cond.op, cond.value)
        if isinstance(cond, AccountQualifiedCond):
            return (self.account_state is not None and self.account_state.qualified) == cond.account_qualified
        if isinstance(cond, PredictedCond):
            return _compare_exact(self.predicted.get(cond.predicted), cond.op, cond.value)
        raise AssertionError(type(cond))

    def decay(self, t: float, h: float) -> float:
        """The weight of an event at ``t``: 0.5 ^ ((T - t) / h), and 0 beyond MAX_HALF_LIVES half-lives."""
        age = (self.as_of - t) / h
        return 0.0 if age > MAX_HALF_LIVES else 0.5**age

    def engagement_points(self, rule: EngagementRule) -> Contribution:
        matched = self.matching(rule.match)
        n = len(matched)
        if n < rule.min_count:
            return Contribution(n, 0.0)
        h = self.defn.half_life(rule)
        if rule.per == "occurrence":
            raw = rule.points * (sum(self.decay(e["ts"], h) for e in matched) if h else n)
        else:
            latest = max(e["ts"] for e in matched)
            raw = rule.points * (self.decay(latest, h) if h else 1)
        if rule.cap is not None:
            raw = min(max(raw, -rule.cap), rule.cap)
        return Contribution(n, float(raw))

    def compute_scores(self) -> None:
        """Contributions, fit, engagement and total: what does not depend on other leads."""
        d = self.defn
        contributions = self.contributions
        for fit_rule in d.fit:
            hit = self.holds(fit_rule.when)
            self.fit_hits[fit_rule.id] = hit
            contributions[fit_rule.id] = Contribution(int(hit), float(fit_rule.points) if hit else 0.0)
        for rule in d.engagement:
            contributions[rule.id] = self.engagement_points(rule)
        group_adjust: dict[str, float] = {}
        for name, group in d.groups.items():
            members = [contributions[r.id].points for r in d.rules if r.group == name]
            s = _sum(members)
            group_adjust[name] = min(max(s, -group.cap), group.cap) - s
            contributions[f"group:{name}"] = Contribution(0, group_adjust[name])
        fit_groups = {r.group for r in d.fit if r.group}
        fit = _sum([contributions[r.id].points for r in d.fit] + [group_adjust[g] for g in d.groups if g in fit_groups])
        engagement = _sum(
            [contributions[r.id].points for r in d.engagement]
            + [group_adjust[g] for g in d.groups if g not in fit_groups]
        )
        self.scores = {"fit": fit, "engagement": engagement, "total": fit + engagement}

    def decide(self) -> LeadScore:
        """Hard rules, paths, grade, level and types, once account roll-ups and predictions are known."""
        d = self.defn
        fit, engagement, total = self.scores["fit"], self.scores["engagement"], self.scores["total"]
        assert fit is not None and engagement is not None and total is not None
        if self.account_state is not None:
            self.scores["account_engagement"] = self.account_state.engagement
        dq = [h.reason for h in d.disqualify if self.holds(h.when)]
        failed = [h.reason for h in d.require if not self.holds(h.when)]
        q = d.qualify
        paths = []
        if q.has_score_path and all(
            score >= bound - EPS
            for score, bound in ((total, q.threshold), (fit, q.min_fit), (engagement, q.min_engagement))
            if bound is not None
        ):
            paths.append("score")
        paths += [p.name for p in q.paths if self.holds(p.when)]
        qualified = not dq and not failed and bool(paths)
        g, lv = d.grades, d.levels
        grade = next((k for k, v in (("A", g.A), ("B", g.B), ("C", g.C)) if fit >= v - EPS), "D")
        level = next((i for i, v in ((1, lv.l1), (2, lv.l2), (3, lv.l3)) if engagement >= v - EPS), 4)
        types: list[str] = []
        if qualified:
            types.append("fit" if fit >= engagement - EPS else "intent")
            product = any(self.fired(r) for r in d.engagement if r.product)
            types.append("product_led" if product else "sales_led")
        return LeadScore(
            lead_id=self.row["lead_id"],
            fit=fit,
            engagement=engagement,
            total=total,
            qualified=qualified,
            qualified_by=paths,
            disqualify_reasons=dq,
            failed_requirements=failed,
            grade=grade,
            level=level,
            mql_types=types,
            contributions=self.contributions,
            account=self.account_state,
            predicted=dict(self.predicted),
        )


#: Account engagement sums each lead's engagement rounded to a multiple of 2^-32 (docs/semantics.md).
GRID = 2**32


def _on_grid(value: float) -> float:
    """``value`` rounded to a multiple of 1/GRID, ties away from zero (as SQL ROUND does)."""
    scaled = value * GRID
    if abs(scaled) >= 2**52:  # no fraction left to round (and adding 0.5 would not be exact)
        return value
    return math.copysign(math.floor(abs(scaled) + 0.5), scaled) / GRID


def _compare_exact(value: float | None, op: str, bound: float) -> bool:
    if value is None:
        return False
    return {"gte": value >= bound, "gt": value > bound, "lte": value <= bound, "lt": value < bound}[op]


def _us(seconds: float) -> int:
    """Epoch seconds (a double holding whole microseconds) back to exact microseconds."""
    return round(seconds * 1_000_000)


def _sum(values: list[float]) -> float:
    """Left-to-right, as the compiled SQL adds."""
    acc = 0.0
    for i, v in enumerate(values):
        acc = v if i == 0 else acc + v
    return float(acc)


def evaluate(defn: Definition, data: Dataset, as_of: float) -> list[LeadScore]:
    """Score every lead that exists at ``as_of`` (epoch seconds), ordered by lead_id."""
    as_of = _us(as_of) / 1_000_000  # instants have microsecond precision
    accounts = {a["account_id"]: a for a in data.rows("accounts") if a.get("account_id") is not None}
    events: dict[str, list[Row]] = defaultdict(list)
    for e in data.rows("events"):
        if e["ts"] is not None and _us(e["ts"]) <= _us(as_of) and e["lead_id"] is not None:
            events[e["lead_id"]].append(e)
    leads: list[_Lead] = []
    for row in data.rows("leads"):
        created = row.get("created_at")
        if created is not None and _us(created) > _us(as_of):
            continue
        account = accounts.get(row.get("account_id")) if row.get("account_id") is not None else None
        lead = _Lead(defn, row, account, events.get(row["lead_id"], []), as_of)
        lead.compute_scores()
        leads.append(lead)
    if defn.account is not None:
        _roll_up_accounts(defn, leads)
    models = defn.models()
    if models:
        latest = latest_predictions(data, as_of, models)
        for lead in leads:
            lead.predicted = {m: latest.get((lead.row["lead_id"], m)) for m in models}
    out = [lead.decide() for lead in leads]
    out.sort(key=lambda s: s.lead_id)
    return out


def _roll_up_accounts(defn: Definition, leads: list[_Lead]) -> None:
    """Account engagement: the engagement of every lead of the account that exists at T, summed; engaged
    leads: those at or above ``engaged_at`` (default: above 0).  A lead without an account has neither."""
    rollup = defn.account
    assert rollup is not None
    members: dict[str, list[float]] = defaultdict(list)
    for lead in leads:
        account_id = lead.row.get("account_id")
        if account_id is not None:
            engagement = lead.scores["engagement"]
            assert engagement is not None
            members[account_id].append(_on_grid(engagement))
    for lead in leads:
        account_id = lead.row.get("account_id")
        if account_id is None:
            lead.account_state = AccountState(None, None, None, False)
            continue
        values = members[account_id]
        total = math.fsum(values)
        if rollup.engaged_at is None:
            engaged = sum(1 for v in values if compare_score(v, "gt", 0.0))
        else:
            engaged = sum(1 for v in values if compare_score(v, "gte", rollup.engaged_at))
        qualified = (rollup.threshold is None or compare_score(total, "gte", rollup.threshold)) and (
            rollup.min_engaged_leads is None or engaged >= rollup.min_engaged_leads
        )
        lead.account_state = AccountState(account_id, total, engaged, qualified)


def latest_predictions(data: Dataset, as_of: float, models: list[str]) -> dict[tuple[str, str], float]:
    """(lead id, model) -> the probability of that model's latest prediction scored at or before T; of
    predictions scored at the same instant, the highest probability."""
    best: dict[tuple[str, str], tuple[int, float]] = {}
    wanted = set(models)
    for p in data.rows("predictions"):
        if p["model"] not in wanted or _us(p["scored_at"]) > _us(as_of):
            continue
        key, rank = (p["lead_id"], p["model"]), (_us(p["scored_at"]), float(p["probability"]))
        if key not in best or rank > best[key]:
            best[key] = rank
    return {key: rank[1] for key, rank in best.items()}
