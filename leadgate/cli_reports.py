"""``leadgate report funnel | speed | reasons``: the funnel reports as tables in the terminal, CSV or JSON.

Each command parses its options, calls one function of ``leadgate.reports`` and formats the result; a bad
option or a store without the lifecycle tables is a clean message with exit code 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from leadgate.errors import LeadgateError
from leadgate.reports import BY, Column, Report, Window, funnel, reasons, speed

F = TypeVar("F", bound=Callable[..., Any])
out = Console(width=None if sys.stdout.isatty() else 200)  # piped: wide enough for every column
err = Console(stderr=True, soft_wrap=True)


class ReportFailed(click.ClickException):
    exit_code = 2


def report_options(f: F) -> F:
    """The options every report takes, declared once."""
    options = [
        click.option(
            "--database", envvar="LEADGATE_DATABASE_URL", default=None,
            help="Store URL (default: $LEADGATE_DATABASE_URL, else sqlite:///leadgate.db).",
        ),
        click.option("--from", "start", required=True, help="First day (YYYY-MM-DD) or instant (ISO-8601)."),
        click.option("--to", "end", required=True, help="Last day, included (or an instant, excluded)."),
        click.option("--as-of", "as_of", default=None, help="Follow outcomes up to this instant (default: now)."),
        click.option("--by", type=click.Choice(BY), default=None, help="Slice the report."),
        click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Write the rows as CSV to FILE ('-': standard output)."),
        click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (columns, rows, total)."),
    ]  # fmt: skip
    for option in reversed(options):
        f = option(f)
    return f


def _run(
    build: Callable[..., Report], database: str | None, start: str, end: str, as_of: str | None, **kw: Any
) -> Report:
    from sqlalchemy.exc import DBAPIError

    from leadgate.store.store import Store

    try:
        window = Window.parse(start, end, as_of)
        return build(Store(database), window, **kw)
    except LeadgateError as exc:
        raise ReportFailed(str(exc)) from None
    except DBAPIError as exc:  # e.g. a store whose schema predates the lifecycle tables
        raise ReportFailed(f"cannot read the store: {exc.orig}; is its schema current? (leadgate db upgrade)") from None


def _emit(report: Report, csv_path: Path | None, as_json: bool) -> None:
    if csv_path is not None:
        if str(csv_path) == "-":
            report.write_csv(sys.stdout)
        else:
            with csv_path.open("w", newline="", encoding="utf-8") as fh:
                written = report.write_csv(fh)
            err.print(f"wrote {written} rows to {csv_path}", highlight=False)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    elif csv_path is None or str(csv_path) != "-":
        print_report(report)
    for note in report.notes:
        err.print(f"[yellow]note[/yellow] {note}", highlight=False)


def human(value: Any, kind: str) -> str:
    """A cell as people read it: 1,234 / 12.5% / 3.2 h / 1,235; '–' for none."""
    if value is None:
        return "–"
    if kind == "count":
        return f"{value:,}"
    if kind == "rate":
        return f"{value:.1%}"
    if kind == "money":  # whole units on screen; CSV and JSON keep the cents
        return f"{value:,.0f}"
    if kind == "seconds":
        for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
            if abs(value) >= size:
                return f"{value / size:.1f} {unit}"
        return f"{value:.0f} s"
    return str(value)


def span(window: Window) -> str:
    """The window as people say it: whole days as dates (the last one included), other bounds as times."""

    def when(value: datetime, *, last_day: bool = False) -> str:
        if value.time() == time(0):
            return (value - timedelta(days=1) if last_day else value).date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")

    return f"{when(window.start)} → {when(window.end, last_day=True)}, as of {window.as_of:%Y-%m-%d %H:%M} UTC"


def print_report(report: Report) -> None:
    """One rich table per column group, the total as the last row of each (under a rule) when sliced."""
    head = f"{report.title}, {span(report.window)}" + (f", by {report.by}" if report.by else "")
    groups: dict[str, list[Column]] = {}
    for column in report.columns[1:]:
        groups.setdefault(column.group, []).append(column)
    for group, columns in groups.items():
        table = Table(title=head + (f": {group}" if group else ""), title_justify="left")
        table.add_column(report.by or "slice", style="bold", no_wrap=True)
        for column in columns:
            table.add_column(column.title, justify="left" if column.kind == "label" else "right")
        for i, row in enumerate(report.rows):
            last = i == len(report.rows) - 1 and bool(report.by)
            table.add_row(row["slice"], *(human(row.get(c.name), c.kind) for c in columns), end_section=last)
        if report.by:
            for row in report.total:
                table.add_row("all", *(human(row.get(c.name), c.kind) for c in columns), style="italic")
        if not report.rows:
            table.caption = "nothing in this window"
        out.print(table)


@click.group("report")
def report() -> None:
    """Funnel reports over the store for a date range, optionally sliced (docs/reports.md defines every
    column): leads, MQLs and conversions (funnel), speed to lead and SLA (speed), reasons (reasons)."""


@report.command("funnel")
@report_options
@click.option("--currency", default="USD", show_default=True, help="Count opportunities in this currency.")
def funnel_command(
    database: str | None, start: str, end: str, as_of: str | None, by: str | None, csv_path: Path | None,
    as_json: bool, currency: str,
) -> None:  # fmt: skip
    """Leads, MQL rate, MQLs, time to MQL, SQLs, customers, pipeline and revenue per MQL, recycling."""
    _emit(_run(funnel, database, start, end, as_of, by=by, currency=currency), csv_path, as_json)


@report.command("speed")
@report_options
def speed_command(
    database: str | None, start: str, end: str, as_of: str | None, by: str | None, csv_path: Path | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Speed to lead (median, p90) and SLA attainment of the assignments made in the window."""
    _emit(_run(speed, database, start, end, as_of, by=by), csv_path, as_json)


@report.command("reasons")
@report_options
def reasons_command(
    database: str | None, start: str, end: str, as_of: str | None, by: str | None, csv_path: Path | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Rejection, recycle and definition disqualification reasons, with counts and shares."""
    _emit(_run(reasons, database, start, end, as_of, by=by), csv_path, as_json)


COMMANDS = [report]
