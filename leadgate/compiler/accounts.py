"""Account-level engagement (docs/semantics.md, "Account engagement"), added only when a definition has an
``account:`` section.

    acct  ``sc`` (every lead that exists at T, with its engagement) with, per lead, its account's summed
          engagement and number of engaged leads: window aggregates partitioned by account_id, so the
          chain stays linear (every CTE read once; no engine computes ``sc`` twice) and there is no join
    tot   total, and whether the lead's account qualifies (1/0)

A lead without an account has no account engagement and no engaged leads (NULL), and its account does not
qualify.
"""

from __future__ import annotations

from sqlglot import exp

from leadgate.compiler.conditions import score_compare
from leadgate.compiler.sqlbuild import and_, case, col, flag, select_from
from leadgate.definition.model import AccountRollup

ENGAGEMENT = "account_engagement"
ENGAGED_LEADS = "account_engaged_leads"
QUALIFIED = "account_qualified"
#: Output columns, in order (the lead's account id first).
OUTPUT = ("account_id", ENGAGEMENT, ENGAGED_LEADS, QUALIFIED)


def engaged(rollup: AccountRollup, engagement: exp.Expression) -> exp.Expression:
    """A lead counts as engaged at ``engaged_at`` or more; by default, above 0 (both with tolerance)."""
    if rollup.engaged_at is None:
        return score_compare(engagement, "gt", 0.0)
    return score_compare(engagement, "gte", rollup.engaged_at)


def _per_account(aggregate: exp.Expression) -> exp.Expression:
    """``aggregate`` over the lead's account; NULL for a lead without one (NULL ids are no account)."""
    window = exp.Window(this=aggregate, partition_by=[col("account_id")])
    return case([(exp.Is(this=col("account_id"), expression=exp.Null()), exp.Null())], window)


def account_stages(rollup: AccountRollup, source: str = "sc") -> list[tuple[str, exp.Select]]:
    """The ``acct`` and ``tot`` stages of a definition with an ``account:`` section."""
    count_engaged = exp.Count(this=case([(engaged(rollup, col("engagement")), exp.Literal.number(1))], None))
    rolled = [
        exp.alias_(_per_account(exp.Sum(this=col("engagement"))), ENGAGEMENT, quoted=True),
        exp.alias_(_per_account(count_engaged), ENGAGED_LEADS, quoted=True),
    ]
    parts: list[exp.Expression] = []
    if rollup.threshold is not None:
        parts.append(score_compare(col(ENGAGEMENT), "gte", rollup.threshold))
    if rollup.min_engaged_leads is not None:
        parts.append(exp.GTE(this=col(ENGAGED_LEADS), expression=exp.Literal.number(rollup.min_engaged_leads)))
    total = [
        exp.alias_(exp.Add(this=col("fit"), expression=col("engagement")), "total", quoted=True),
        exp.alias_(flag(and_(parts)), QUALIFIED, quoted=True),
    ]
    return [("acct", select_from(source, rolled)), ("tot", select_from("acct", total))]
