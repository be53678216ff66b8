"""Model predictions read by ``predicted`` conditions (docs/semantics.md, "Predictions").

Two CTEs, added only when a definition reads a model:

    pr   the predictions of the models it reads scored at or before T, ranked per lead and model: latest
         first, then the highest probability (so ties are broken the same way everywhere)
    pv   one row per lead: the rank-1 probability of each model as ``pr0``, ``pr1``, … (sorted model names)

``base`` joins ``pv`` on lead_id; a lead without a prediction gets NULL, and a comparison on NULL is false.
"""

from __future__ import annotations

from sqlglot import exp

from leadgate.compiler.sqlbuild import case, col, ident, string


def column(index: int) -> str:
    """The ``pv`` / ``base`` column holding the ``index``-th model's probability."""
    return f"pr{index}"


def output_column(index: int) -> str:
    """The output column holding the ``index``-th model's probability."""
    return f"predicted__{index}"


def prediction_ctes(models: list[str], table: exp.Table, as_of: exp.Expression) -> list[tuple[str, exp.Select]]:
    """The ``pr`` and ``pv`` CTEs for ``models`` (sorted names) read from ``table`` as of the literal T."""
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[col("lead_id", "p"), col("model", "p")],
        order=exp.Order(
            expressions=[
                exp.Ordered(this=col("scored_at", "p"), desc=True),
                exp.Ordered(this=col("probability", "p"), desc=True),
            ]
        ),
    )
    wanted = exp.In(this=col("model", "p"), expressions=[string(m) for m in models])
    ranked = (
        exp.select(
            exp.alias_(col("lead_id", "p"), "lead_id", quoted=True),
            exp.alias_(col("model", "p"), "model", quoted=True),
            exp.alias_(col("probability", "p"), "probability", quoted=True),
            exp.alias_(rank, "rn", quoted=True),
        )
        .from_(table.as_("p"))
        .where(exp.and_(wanted, exp.LTE(this=col("scored_at", "p"), expression=as_of)))
    )
    latest = [col("lead_id")]
    for i, model in enumerate(models):
        pick = case([(exp.EQ(this=col("model"), expression=string(model)), col("probability"))], None)
        latest.append(exp.alias_(exp.Max(this=pick), column(i), quoted=True))
    per_lead = (
        exp.select(*latest)
        .from_(exp.Table(this=ident("pr")))
        .where(exp.EQ(this=col("rn"), expression=exp.Literal.number(1)))
        .group_by(col("lead_id"))
    )
    return [("pr", ranked), ("pv", per_lead)]
