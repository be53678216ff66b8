"""The ``leadgate`` command: each command parses, calls one library function, and formats."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from leadgate import api
from leadgate.cli_common import as_of_option, definition_arg, err, note_missing_predictions, parse_as_of, reports_errors
from leadgate.cli_common import print_rejects as _print_rejects
from leadgate.compiler import DIALECTS
from leadgate.compiler.query import TableNames
from leadgate.definition.loader import load_definition
from leadgate.engines import ENGINES
from leadgate.errors import LeadgateError
from leadgate.explain import explain_context, explain_rows
from leadgate.summary import Summary

F = TypeVar("F", bound=Callable[..., Any])
out = Console()


# -- shared options, declared once ---------------------------------------------------------------------
engine_option = click.option("--engine", type=click.Choice(ENGINES), default="sqlite", show_default=True)


def input_options(f: F) -> F:
    f = click.option(
        "--predictions",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Model predictions (lead_id, model, probability, scored_at) for 'predicted' conditions.",
    )(f)
    f = click.option("--accounts", type=click.Path(exists=True, dir_okay=False, path_type=Path))(f)
    f = click.option(
        "--events-format",
        type=click.Choice(["auto", "segment"]),
        default="auto",
        show_default=True,
        help="'segment' reads Segment JSON messages (track / page / identify / group).",
    )(f)
    f = click.option("--events", type=click.Path(exists=True, dir_okay=False, path_type=Path))(f)
    f = click.option("--leads", type=click.Path(exists=True, dir_okay=False, path_type=Path))(f)
    return f


@contextmanager
def _progress(enabled: bool, steps: int) -> Iterator[Callable[[str], None]]:
    """A progress bar over the stages of a run (on a terminal only); yields ``step(description)``."""
    if not enabled:
        yield lambda _msg: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("starting", total=steps)
        started = False

        def step(description: str) -> None:
            nonlocal started
            progress.update(task, description=description, advance=1 if started else 0)
            started = True

        yield step
        progress.update(task, completed=steps)


# -- commands ------------------------------------------------------------------------------------------
@click.group()
@click.version_option(package_name="leadgate")
def main() -> None:
    """leadgate: MQL definitions compiled to SQL, scored on SQLite, DuckDB, PostgreSQL or Spark."""


@main.command()
@definition_arg
@reports_errors
def validate(definition: Path) -> None:
    """Check a definition file; print its rules, or every problem with file:line:col."""
    defn = load_definition(definition)
    out.print(
        f"[green]ok[/green] {definition}: {defn.name} v{defn.version_str}: {len(defn.fit)} fit rule(s), "
        f"{len(defn.engagement)} engagement rule(s), {len(defn.require)} requirement(s), "
        f"{len(defn.disqualify)} disqualifier(s), {len(defn.qualify.paths)} named path(s)",
        highlight=False,
    )


@main.command("compile")
@definition_arg
@click.option("--dialect", type=click.Choice(DIALECTS), default="duckdb", show_default=True)
@as_of_option
@click.option("--leads-table", default="leads", show_default=True)
@click.option("--events-table", default="events", show_default=True)
@click.option("--accounts-table", default="accounts", show_default=True)
@click.option("--predictions-table", default="predictions", show_default=True)
@reports_errors
def compile_(
    definition: Path,
    dialect: str,
    as_of: datetime | None,
    leads_table: str,
    events_table: str,
    accounts_table: str,
    predictions_table: str,
) -> None:
    """Print the SQL that scores every lead, for your warehouse (see docs/semantics.md for the tables)."""
    tables = TableNames(leads=leads_table, events=events_table, accounts=accounts_table, predictions=predictions_table)
    click.echo(api.compile_sql(definition, dialect=dialect, as_of=as_of, tables=tables) + ";")


@main.command()
@definition_arg
@input_options
@as_of_option
@engine_option
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every lead's score: .jsonl, .csv or .parquet.",
)
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path), help="Write rejected input rows here.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--skip-event-check",
    is_flag=True,
    help="Do not look for events whose lead_id names no lead (one scan of the events; on by default).",
)
@reports_errors
def score(
    definition: Path,
    leads: Path | None,
    events: Path | None,
    events_format: str,
    accounts: Path | None,
    predictions: Path | None,
    as_of: datetime | None,
    engine: str,
    out_path: Path | None,
    rejects: Path | None,
    as_json: bool,
    skip_event_check: bool,
) -> None:
    """Score leads with a definition and print a summary."""
    from leadgate.outputs import write_scores

    if leads is None and events_format != "segment":
        raise click.UsageError("--leads is required (or give --events with --events-format segment)")
    with _progress(not as_json and sys.stderr.isatty(), steps=6 if out_path else 5) as step:
        step("reading definition")
        defn = load_definition(definition)
        run = api.score(
            defn,
            leads=leads,
            events=events,
            accounts=accounts,
            predictions=predictions,
            events_format=None if events_format == "auto" else events_format,
            as_of=as_of,
            engine=engine,
            on_step=step,
            check_events=not skip_event_check,
        )
        if out_path:
            step(f"writing {out_path}")
            write_scores(run.table, out_path)
    if rejects:
        rejects.write_text("".join(json.dumps(r.__dict__) + "\n" for r in run.rejected))
    summary = run.summary
    if as_json:
        click.echo(
            json.dumps(
                {
                    "definition": defn.name,
                    "version": defn.version_str,
                    "as_of": run.as_of,
                    "engine": engine,
                    "rejected_rows": len(run.rejected),
                    "events_without_lead": run.events_without_lead,
                    "unknown_lead_ids": run.unknown_lead_ids,
                    "duplicate_messages": run.duplicate_messages,
                    **summary.to_dict(),
                }
            )
        )
        return
    _print_rejects(run.rejected)
    _note_input_gaps(run)
    note_missing_predictions(defn.models(), predictions)
    _print_summary(defn.name, defn.version_str, run.as_of, engine, summary)
    if out_path:
        out.print(f"scores written to {out_path}", highlight=False)


def _note_input_gaps(run: api.ScoreRun) -> None:
    """Input that was read but not scored: events of no known lead, repeated Segment messages."""
    if run.events_without_lead:
        ids = escape(", ".join(repr(i) for i in run.unknown_lead_ids))
        err.print(
            f"[yellow]note[/yellow] {run.events_without_lead:,} event(s) name a lead_id that is not among the "
            f"leads, and are not scored (e.g. {ids})",
            highlight=False,
        )
    if run.duplicate_messages:
        err.print(
            f"[yellow]note[/yellow] {run.duplicate_messages:,} Segment message(s) repeat the messageId of one "
            "read before, and were read once",
            highlight=False,
        )


def _print_summary(name: str, version: str, as_of: float, engine: str, s: Summary) -> None:
    when = datetime.fromtimestamp(as_of, UTC).isoformat().replace("+00:00", "Z")
    out.print(f"[bold]{name}[/bold] v{version} as of {when} on {engine}", highlight=False)
    out.print(f"leads {s.leads:,}   MQLs {s.mqls:,}   MQL rate {s.mql_rate:.1%}", highlight=False)
    for title, counts in (
        ("MQL type", s.by_type),
        ("qualified by", s.by_path),
        ("disqualify reason", s.by_disqualify_reason),
        ("failed requirement", s.by_failed_requirement),
    ):
        if counts:
            table = Table(title=None, show_edge=False, box=None, padding=(0, 2))
            table.add_column(title)
            table.add_column("leads", justify="right")
            for key, n in counts.items():
                table.add_row(key, f"{n:,}")
            out.print(table)
    table = Table(show_edge=False, box=None, padding=(0, 2))
    table.add_column("total score")
    table.add_column("leads", justify="right")
    for bucket, n in s.histogram:
        table.add_row(bucket, f"{n:,}")
    out.print(table)
    q = s.total_quantiles
    if q:
        out.print("quantiles " + "  ".join(f"{k} {v:.1f}" for k, v in q.items()), highlight=False)


@main.command()
@definition_arg
@click.option("--lead", "lead_ids", multiple=True, required=True, help="Lead id (repeatable).")
@input_options
@as_of_option
@engine_option
@click.option("--json", "as_json", is_flag=True)
@reports_errors
def explain(
    definition: Path,
    lead_ids: tuple[str, ...],
    leads: Path | None,
    events: Path | None,
    events_format: str,
    accounts: Path | None,
    predictions: Path | None,
    as_of: datetime | None,
    engine: str,
    as_json: bool,
) -> None:
    """Show why a lead scored what it did: every rule's count and points, hard rules, paths, and the
    account roll-up and model predictions a definition reads."""
    defn = load_definition(definition)
    data = api.read_inputs(
        defn,
        leads,
        events,
        accounts,
        events_format=None if events_format == "auto" else events_format,
        predictions=predictions,
    )
    _print_rejects(data.rejected)
    note_missing_predictions(defn.models(), predictions)
    run = api.score(defn, data=data, as_of=as_of, engine=engine)
    missing = [i for i in lead_ids if run.lead(i) is None]
    if missing:
        raise LeadgateError(f"no lead with id {', '.join(repr(m) for m in missing)} in the input (as of that time)")
    for lead_id in lead_ids:
        s = run.lead(lead_id)
        assert s is not None
        if as_json:
            click.echo(json.dumps(s.to_dict()))
            continue
        verdict = "[green]MQL[/green]" if s.qualified else "[dim]not an MQL[/dim]"
        out.print(
            f"[bold]{lead_id}[/bold]  {verdict}  fit {s.fit:.2f}  engagement {s.engagement:.2f}  "
            f"total {s.total:.2f}  grade {s.matrix}",
            highlight=False,
        )
        table = Table(show_edge=False, box=None, padding=(0, 2))
        for column in ("rule", "kind", "count", "points", "why"):
            table.add_column(column, justify="right" if column in ("count", "points") else "left")
        for row in explain_rows(defn, s):
            table.add_row(row.rule, row.kind, str(row.count), f"{row.points:+.2f}", row.why)
        out.print(table)
        for line in explain_context(defn, s, run.table.account_members):
            out.print(line, highlight=False, markup=False)
        for label, items in (
            ("qualified by", s.qualified_by),
            ("disqualified", s.disqualify_reasons),
            ("failed requirements", s.failed_requirements),
            ("MQL types", s.mql_types),
        ):
            if items:
                out.print(f"{label}: {', '.join(items)}", highlight=False)


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--leads", "n_leads", type=click.IntRange(1), default=2000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), default="csv", show_default=True)
@click.option("--start", callback=parse_as_of, default="2026-05-01T00:00:00Z", show_default=True)
@click.option("--end", callback=parse_as_of, default="2026-11-01T00:00:00Z", show_default=True)
@reports_errors
def generate(out_dir: Path, n_leads: int, seed: int, fmt: str, start: datetime, end: datetime) -> None:
    """Write deterministic demo data: leads, accounts, events and outcomes."""
    from leadgate.generate import generate as run_generate

    summary = run_generate(out_dir, leads=n_leads, seed=seed, start=start, end=end, fmt=fmt)  # type: ignore[arg-type]
    out.print(f"wrote {out_dir}: {summary}", highlight=False)


@main.command()
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path))
def schema(out_path: Path | None) -> None:
    """Print (or write) the JSON Schema of definition files, for editor completion."""
    from leadgate.definition.schema import definition_json_schema

    text = json.dumps(definition_json_schema(), indent=2)
    if out_path:
        out_path.write_text(text + "\n")
    else:
        click.echo(text)


def _register_service_commands() -> None:
    from leadgate.cli_ingest import COMMANDS as INGEST
    from leadgate.cli_learn import COMMANDS as LEARN_COMMANDS
    from leadgate.cli_reports import COMMANDS as REPORT_COMMANDS
    from leadgate.cli_sales import COMMANDS as SALES_COMMANDS
    from leadgate.cli_service import COMMANDS

    for command in [*COMMANDS, *SALES_COMMANDS, *REPORT_COMMANDS, *INGEST, *LEARN_COMMANDS]:
        main.add_command(command)
    import leadgate.cli_versions  # noqa: F401 - adds list, show and diff to the definitions group
    from leadgate.cli_backtest import backtest

    main.add_command(backtest)


_register_service_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
