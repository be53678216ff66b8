"""Account-level engagement (docs/semantics.md, "Account engagement"), added only when a definition has an
``account:`` section.  Two stages after ``sc`` (every lead that exists at T, with its engagement):

    acct  per account: its leads' engagement summed and how many of them are engaged
    tot   total, the lead's account roll-up, and whether its account qualifies (1/0)

The same meaning takes one of two shapes, by how the dialect runs a CTE that is read twice:

- materialized once (SQLite, DuckDB, PostgreSQL, Snowflake): ``acct`` is one grouped pass over ``sc`` and
  ``tot`` joins it back on account_id; the aggregate reads two columns, the join is on accounts;
- inlined at each use (Spark, BigQuery), where that would score every lead twice: window aggregates
  partitioned by account_id in a linear chain (``sc`` is read once), at the cost of carrying every column
  through the window.

A lead without an account has no account engagement and no engaged leads (NULL), and its account does not
qualify.  Each lead's engagement enters the sum rounded to a multiple of 2^-32 (``GRID``): such doubles add
exactly (below 2^21 points), so the sum is the same in any order, on every thread count and every engine.
"""

from __future__ import annotations

from sqlglot import exp

from leadgate.compiler.conditions import score_compare
from leadgate.compiler.sqlbuild import and_, case, col, div, flag, ident, mul, not_, num, select_from
from leadgate.definition.model import AccountRollup

ENGAGEMENT = "account_engagement"
ENGAGED_LEADS = "account_engaged_leads"
QUALIFIED = "account_qualified"
#: Output columns, in order (the lead's account id first).
OUTPUT = ("account_id", ENGAGEMENT, ENGAGED_LEADS, QUALIFIED)
#: Dialects that compute a CTE read twice only once.
MATERIALIZING = frozenset({"sqlite", "duckdb", "postgres", "snowflake"})
#: Engagement is summed on this grid (see the module docstring and docs/semantics.md).
GRID = 2**32


def engaged(rollup: AccountRollup, engagement: exp.Expression) -> exp.Expression:
    """A lead counts as engaged at ``engaged_at`` or more; by default, above 0 (both with tolerance)."""
    if rollup.engaged_at is None:
        return score_compare(engagement, "gt", 0.0)
    return score_compare(engagement, "gte", rollup.engaged_at)


def _aggregates(rollup: AccountRollup) -> tuple[exp.Expression, exp.Expression]:
    count_engaged = exp.Count(this=case([(engaged(rollup, col("engagement")), exp.Literal.number(1))], None))
    on_grid = div(exp.Round(this=mul(col("engagement"), num(GRID))), num(GRID))  # ties away from zero
    return exp.Sum(this=on_grid), count_engaged


def _qualifies(rollup: AccountRollup, table: str | None) -> exp.Expression:
    parts: list[exp.Expression] = []
    if rollup.threshold is not None:
        parts.append(score_compare(col(ENGAGEMENT, table), "gte", rollup.threshold))
    if rollup.min_engaged_leads is not None:
        parts.append(exp.GTE(this=col(ENGAGED_LEADS, table), expression=exp.Literal.number(rollup.min_engaged_leads)))
    return flag(and_(parts))


def account_stages(rollup: AccountRollup, dialect: str, source: str = "sc") -> list[tuple[str, exp.Select]]:
    """The ``acct`` and ``tot`` stages of a definition with an ``account:`` section."""
    total, engaged_count = _aggregates(rollup)
    if dialect in MATERIALIZING:
        per_account = (
            exp.select(
                col("account_id"),
                exp.alias_(total, ENGAGEMENT, quoted=True),
                exp.alias_(engaged_count, ENGAGED_LEADS, quoted=True),
            )
            .from_(exp.Table(this=ident(source)))
            .where(not_(exp.Is(this=col("account_id"), expression=exp.Null())))
            .group_by(col("account_id"))
        )
        joined = (
            exp.select(
                exp.Column(this=exp.Star(), table=ident(source)),
                exp.alias_(
                    exp.Add(this=col("fit", source), expression=col("engagement", source)), "total", quoted=True
                ),
                exp.alias_(col(ENGAGEMENT, "x"), ENGAGEMENT, quoted=True),
                exp.alias_(col(ENGAGED_LEADS, "x"), ENGAGED_LEADS, quoted=True),
                exp.alias_(_qualifies(rollup, "x"), QUALIFIED, quoted=True),
            )
            .from_(exp.Table(this=ident(source)))
            .join(
                exp.Table(this=ident("acct")).as_("x"),
                on=exp.EQ(this=col("account_id", source), expression=col("account_id", "x")),
                join_type="left",
            )
        )
        return [("acct", per_account), ("tot", joined)]

    def per_lead(aggregate: exp.Expression) -> exp.Expression:
        window = exp.Window(this=aggregate, partition_by=[col("account_id")])
        return case([(exp.Is(this=col("account_id"), expression=exp.Null()), exp.Null())], window)

    rolled = [
        exp.alias_(per_lead(total), ENGAGEMENT, quoted=True),
        exp.alias_(per_lead(engaged_count), ENGAGED_LEADS, quoted=True),
    ]
    decided = [
        exp.alias_(exp.Add(this=col("fit"), expression=col("engagement")), "total", quoted=True),
        exp.alias_(_qualifies(rollup, None), QUALIFIED, quoted=True),
    ]
    return [("acct", select_from(source, rolled)), ("tot", select_from("acct", decided))]
