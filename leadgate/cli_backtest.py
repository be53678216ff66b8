"""CLI: ``leadgate backtest``: replay history under a definition (and a baseline), per period and in total."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from leadgate.cli_common import note_missing_predictions, print_rejects, reports_errors
from leadgate.cli_service import database_option
from leadgate.engines import ENGINES

out = Console()


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.1%}"


def _money(v: float | None) -> str:
    return "–" if v is None else f"{v:,.0f}"


def _days(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f}"


def _pair(a: str, b: str | None) -> str:
    return a if b is None else f"{b} → {a}"


@click.command()
@click.argument("definition")
@click.option("--against", help="A baseline to compare with: a definition file or a stored version.")
@click.option("--from", "start", required=True, help="Start of the range (ISO date or time, UTC).")
@click.option("--to", "end", required=True, help="End of the range (ISO date or time, UTC), included.")
@click.option("--every", type=click.Choice(["day", "week", "month"]), default="week", show_default=True)
@click.option("--leads", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--events", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--accounts", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--predictions", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Model predictions (lead_id, model, probability, scored_at) for 'predicted' conditions.",
)  # fmt: skip
@click.option(
    "--outcomes", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="What happened to leads afterwards (lead_id, became_sql, sql_at, opportunity, won, revenue, closed_at).",
)  # fmt: skip
@database_option
@click.option("--engine", type=click.Choice(ENGINES), default="duckdb", show_default=True)
@click.option(
    "--path", "path", type=click.Choice(["auto", "changes", "snapshots"]), default="auto", show_default=True,
    help="How snapshots are computed: change points (scores that move only at a lead's own events) or one query "
    "per snapshot.",
)  # fmt: skip
@click.option(
    "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the report: .json or .csv."
)
@click.option("--mqls", "mqls_path", type=click.Path(dir_okay=False, path_type=Path), help="Write every MQL to a CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (without the per-lead list).")
@reports_errors
def backtest(
    definition: str,
    against: str | None,
    start: str,
    end: str,
    every: str,
    leads: Path | None,
    events: Path | None,
    accounts: Path | None,
    predictions: Path | None,
    outcomes: Path | None,
    database: str | None,
    engine: str,
    path: str,
    out_path: Path | None,
    mqls_path: Path | None,
    as_json: bool,
) -> None:
    """Replay history point in time under DEFINITION (a file or a stored version) and report, per period
    and in total, who would have become an MQL and when, MQL volume and rate, time to MQL, and what became
    of those leads.  History comes from --leads/--events/--accounts files, or else from the store (whose
    recorded SQLs and won opportunities are the outcomes unless --outcomes is given).  With
    --against, both side by side: leads gained and lost, and whether quality or only volume changes."""
    from leadgate.backtest import History, Outcomes, Snapshots
    from leadgate.backtest import backtest as run_backtest
    from leadgate.backtest.outcomes import store_outcomes
    from leadgate.store.versions import resolve

    if leads is None and (events or accounts or predictions) is not None:
        raise click.UsageError("--events, --accounts and --predictions need --leads (or none: the store is read)")
    snapshots = Snapshots.between(start, end, every)
    defn, label = resolve(definition, database)
    base = resolve(against, database) if against else None
    result: Path | Outcomes | None = outcomes
    if leads is not None:
        history = History.files(leads, events, accounts, predictions)
        note_missing_predictions(sorted(set(defn.models()) | set(base[0].models() if base else [])), predictions)
    else:
        history = History(database=_store_url(database))
        if outcomes is None:  # the store records what became of its leads
            result = store_outcomes(history.database)
    report = run_backtest(
        defn,
        history,
        snapshots,
        against=base[0] if base else None,
        outcomes=result,
        engine=engine,
        path=path,
        labels=(label, base[1]) if base else (label,),
    )
    if out_path:
        report.write(out_path)
    if mqls_path:
        report.write_mqls(mqls_path)
    if as_json:
        click.echo(json.dumps(report.to_dict(with_leads=False)))
        return
    print_rejects(report.rejected)
    _print(report)
    for written in (out_path, mqls_path):
        if written:
            out.print(f"written to {written}", highlight=False)


def _store_url(database: str | None) -> str:
    from leadgate.store.db import database_url

    return database_url(database)


def _short(p) -> str:  # type: ignore[no-untyped-def]
    return f"{p.label[5:10]}..{p.label[-5:]}"


def _print(report) -> None:  # type: ignore[no-untyped-def]
    d, b, c = report.definition, report.baseline, report.comparison
    outcomes = d.total.sqls is not None
    title = f"[bold]{d.label}[/bold] ({d.name} v{d.version})"
    if b is not None:
        title += f" against [bold]{b.label}[/bold] ({b.name} v{b.version})"
    out.print(title, highlight=False)
    periods = report.snapshots.periods
    out.print(
        f"{periods[0].label[:10]} → {periods[-1].label[-10:]} every {report.snapshots.every} ({len(periods)} periods); "
        f"history: {report.history}; engine: {report.engine}; outcomes: {report.outcomes or 'none'}",
        highlight=False,
    )
    for table in _period_tables(report, outcomes):
        out.print(table)
    legend = "rate: MQLs ÷ new leads; days: median days from creation to MQL"
    if outcomes:
        legend += "; →SQL, →cust: share of MQLs that became SQLs, customers; rev/MQL: revenue won ÷ MQLs"
    if b is not None:
        legend += (
            "; base: the baseline; gained: MQLs of the period the baseline never made; lost: the baseline's MQLs "
            "of the period the definition never made"
        )
    out.print(legend, style="dim", highlight=False)
    if b is not None:
        _print_totals(d, b, outcomes)
    for one in [d] + ([b] if b else []):
        how = Counter(m.how for m in one.mqls)
        detail = ", ".join(f"{n:,} at {k}" for k, n in how.most_common())
        line = f"{one.label}: {one.mqls_at_start:,} already MQLs at the start; MQL instants: {detail or 'none'}"
        if outcomes and one.total.already_sql:
            line += f"; {one.total.already_sql:,} were SQLs before they would have qualified"
        out.print(line, highlight=False)
    if c is not None:
        for line in c.details:
            out.print(f"  {line}", highlight=False)
        out.print(f"[bold]{c.summary}[/bold]", highlight=False)


def _period_tables(report, outcomes: bool) -> list[Table]:  # type: ignore[no-untyped-def]
    """The period table; side by side with a baseline, two (volume and timing, then outcomes) so that each
    fits a terminal's width."""
    d, b = report.definition, report.baseline
    if b is None:
        outcome_columns = ["→SQL", "→cust", "rev/MQL"] if outcomes else []
        tables = [_table(["period", "leads", "new", "MQLs", "rate", "days", *outcome_columns])]
    else:
        tables = [_table(["period", "new", "MQLs", "base", "gained", "lost", "days", "base"])]
        if outcomes:
            tables.append(_table(["period", "→SQL", "base", "→cust", "base", "rev/MQL", "base"]))
    rows: list[tuple[str, Any, Any, int | None]] = [
        (_short(p), m, b.periods[i][1] if b else None, i) for i, (p, m) in enumerate(d.periods)
    ]
    rows.append(("total", d.total, b.total if b else None, None))
    for label, m, bm, index in rows:
        style = "bold" if label == "total" else None
        if bm is None:
            cells = [label, f"{m.leads:,}", f"{m.new_leads:,}", f"{m.mqls:,}", _pct(m.mql_rate)]
            cells.append(_days(m.days_to_mql_median))
            if outcomes:
                cells += [_pct(m.sql_rate), _pct(m.customer_rate), _money(m.revenue_per_mql)]
            tables[0].add_row(*cells, style=style)
            continue
        gained, lost = report.changed_hands(index)
        tables[0].add_row(
            label, f"{m.new_leads:,}", f"{m.mqls:,}", f"{bm.mqls:,}", f"+{gained:,}", f"−{lost:,}",
            _days(m.days_to_mql_median), _days(bm.days_to_mql_median), style=style,
        )  # fmt: skip
        if outcomes:
            tables[1].add_row(
                label, _pct(m.sql_rate), _pct(bm.sql_rate), _pct(m.customer_rate), _pct(bm.customer_rate),
                _money(m.revenue_per_mql), _money(bm.revenue_per_mql), style=style,
            )  # fmt: skip
    return tables


def _table(columns: list[str]) -> Table:
    table = Table(show_edge=False, box=None, padding=(0, 1))
    for name in columns:
        table.add_column(name, justify="left" if name == "period" else "right")
    return table


def _print_totals(d, b, outcomes: bool) -> None:  # type: ignore[no-untyped-def]
    table = Table(show_edge=False, box=None, padding=(0, 2), title=None)
    for name in ("total", "baseline", "definition"):
        table.add_column(name, justify="left" if name == "total" else "right")
    x, y = b.total, d.total
    rows = [
        ("MQLs", f"{x.mqls:,}", f"{y.mqls:,}"),
        ("MQL rate", _pct(x.mql_rate), _pct(y.mql_rate)),
        ("days to MQL (median)", _days(x.days_to_mql_median), _days(y.days_to_mql_median)),
    ]
    if outcomes:
        rows += [
            ("MQL→SQL", _pct(x.sql_rate), _pct(y.sql_rate)),
            ("MQL→customer", _pct(x.customer_rate), _pct(y.customer_rate)),
            ("revenue per MQL", _money(x.revenue_per_mql), _money(y.revenue_per_mql)),
            ("revenue", _money(x.revenue), _money(y.revenue)),
        ]
    for row in rows:
        table.add_row(*row)
    out.print(table)
