"""Conditions and predicates → SQL boolean expressions (docs/semantics.md, "Predicates", "Conditions")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from leadgate.compiler import dialects
from leadgate.compiler.sqlbuild import and_, definite, literal, not_, num, or_, string, sub, truthy
from leadgate.definition.model import (
    AccountQualifiedCond,
    AllCond,
    AnyCond,
    Condition,
    EventCond,
    NotCond,
    Predicate,
    PredictedCond,
    ScoreCond,
    SignalCond,
)

#: Tolerance on score comparisons (thresholds, minimums, grades, levels, score conditions).
EPS = 1e-9


@dataclass
class Scope:
    """Where a condition finds what it tests, at the stage of the query it is compiled in."""

    dialect: str
    field: Callable[[Predicate], exp.Expression]
    event_count: Callable[[EventCond], exp.Expression] | None = None
    signal: Callable[[str], exp.Expression] | None = None
    score: Callable[[str], exp.Expression] | None = None
    #: The 1/0 column saying whether the lead's account qualifies.
    account_qualified: Callable[[], exp.Expression] | None = None
    #: The column holding a model's probability (NULL without a prediction).
    predicted: Callable[[str], exp.Expression] | None = None


def _lower(x: exp.Expression) -> exp.Expression:
    return exp.Lower(this=x)


def predicate(pred: Predicate, x: exp.Expression, dialect: str) -> exp.Expression:
    """A test of ``x`` that is NULL or false on NULL (except ``missing``).  Where it is used (CASE WHEN,
    AND, OR) NULL acts as false; only negation needs it made definite first (see ``condition``)."""
    op, value = pred.op, pred.value
    if op == "exists":
        return not_(exp.Is(this=x, expression=exp.Null()))
    if op == "missing":
        return exp.Is(this=x, expression=exp.Null())
    fold = pred.ignore_case and op != "matches"
    if fold:
        x = _lower(x)
        value = tuple(v.lower() for v in value) if isinstance(value, tuple) else value.lower()
    cond: exp.Expression
    if op == "equals":
        cond = exp.EQ(this=x, expression=literal(value))
    elif op == "not_equals":
        cond = exp.NEQ(this=x, expression=literal(value))
    elif op in ("in", "not_in"):
        if not value:
            cond = exp.false() if op == "in" else not_(exp.Is(this=x, expression=exp.Null()))
        else:
            cond = exp.In(this=x, expressions=[literal(v) for v in value])
            if op == "not_in":
                cond = not_(cond)
    elif op == "between":
        lo, hi = value
        cond = and_([exp.GTE(this=x, expression=num(lo)), exp.LTE(this=x, expression=num(hi))])
    elif op in ("gt", "gte", "lt", "lte"):
        node = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}[op]
        cond = node(this=x, expression=num(value))
    elif op == "matches":
        cond = dialects.regex_search(x, value, pred.ignore_case, dialect)
    elif op == "starts_with":
        cond = or_(dialects.starts_with(x, v, dialect) for v in value)
    elif op == "ends_with":
        cond = or_(dialects.ends_with(x, v, dialect) for v in value)
    elif op == "contains":
        cond = or_(dialects.contains(x, v, dialect) for v in value)
    else:  # pragma: no cover - the model validates operators
        raise AssertionError(op)
    return cond


def score_compare(score: exp.Expression, op: str, value: float) -> exp.Expression:
    """Score comparisons with tolerance EPS; the bound is computed here, in Python floats, as the
    reference evaluator does."""
    if op == "gte":
        return exp.GTE(this=score, expression=num(value - EPS))
    if op == "gt":
        return exp.GT(this=score, expression=num(value + EPS))
    if op == "lte":
        return exp.LTE(this=score, expression=num(value + EPS))
    if op == "lt":
        return exp.LT(this=score, expression=num(value - EPS))
    raise AssertionError(op)


def at_least(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """a ≥ b with tolerance: a ≥ b − EPS."""
    return exp.GTE(this=a, expression=sub(b, num(EPS)))


def negate(cond: exp.Expression) -> exp.Expression:
    """Two-valued NOT: a predicate on NULL is false, so its negation is true."""
    return not_(definite(cond))


def condition(cond: Condition, scope: Scope) -> exp.Expression:
    if isinstance(cond, Predicate):
        return predicate(cond, scope.field(cond), scope.dialect)
    if isinstance(cond, AllCond):
        return and_(condition(c, scope) for c in cond.all)
    if isinstance(cond, AnyCond):
        return or_(condition(c, scope) for c in cond.any)
    if isinstance(cond, NotCond):
        return negate(condition(cond.not_, scope))
    if isinstance(cond, EventCond):
        assert scope.event_count is not None, "event conditions are compiled after aggregation"
        return exp.GTE(this=scope.event_count(cond), expression=num(cond.min_count))
    if isinstance(cond, SignalCond):
        assert scope.signal is not None
        return scope.signal(cond.signal)
    if isinstance(cond, ScoreCond):
        assert scope.score is not None
        return score_compare(scope.score(cond.score), cond.op, cond.value)
    if isinstance(cond, AccountQualifiedCond):
        assert scope.account_qualified is not None
        qualified = truthy(scope.account_qualified())
        return qualified if cond.account_qualified else not_(qualified)
    if isinstance(cond, PredictedCond):
        assert scope.predicted is not None
        node = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}[cond.op]
        return node(this=scope.predicted(cond.predicted), expression=num(cond.value))
    raise AssertionError(type(cond))


__all__ = ["EPS", "Scope", "at_least", "condition", "negate", "predicate", "score_compare", "string"]
