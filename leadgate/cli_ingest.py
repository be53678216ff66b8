"""CLI commands that feed the store from files and look after rejected input: ``leadgate import`` and
``leadgate rejected`` (registered on the main ``leadgate`` group next to ``cli_service``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from leadgate.cli_common import reports_errors as _clean_errors
from leadgate.cli_service import _store, database_option
from leadgate.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])


@click.command("import")
@database_option
@click.argument("kind", type=click.Choice(["leads", "events", "accounts"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Column mapping (YAML), e.g. examples/mappings/hubspot_contacts.yaml. Default: leadgate's own columns.",
)  # fmt: skip
@click.option("--no-score", is_flag=True, help="Do not score the touched leads at the end.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_clean_errors
def import_cmd(
    database: str | None, kind: str, file: Path, mapping: Path | None, no_score: bool, as_json: bool
) -> None:
    """Import leads, events or accounts from CSV or JSON Lines into the store.

    Bad rows are kept (leadgate rejected list) with file, row, field and reason; the touched leads are scored
    once at the end."""
    from leadgate.inputs.mapping import load_mapping
    from leadgate.service.imports import import_file

    parsed = load_mapping(mapping, kind) if mapping else None
    report = import_file(_store(database), kind, file, parsed, actor="cli", score=not no_score)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    click.echo(
        f"{file.name}: {report.accepted:,} of {report.rows:,} rows imported as {kind}, "
        f"{report.rejected:,} rejected, {report.duplicates:,} duplicates ({report.seconds:.1f} s)"
    )
    if report.leads_scored:
        click.echo(f"scored {report.leads_scored:,} leads; {len(report.new_mqls):,} new MQLs")
    if report.missing_columns:
        click.echo(f"mapped columns not in this file: {', '.join(report.missing_columns)}", err=True)
    if report.unmapped_columns:
        click.echo(f"columns not mapped (ignored): {', '.join(report.unmapped_columns)}", err=True)
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)
    if report.rejected > len(report.problems):
        click.echo(f"  … {report.rejected - len(report.problems):,} more: leadgate rejected list", err=True)


@click.group()
def rejected() -> None:
    """Input that was not accepted, kept with its reasons: list it, fix it, replay it."""


@rejected.command("list")
@database_option
@click.option("--source", help="Only this source: segment, api, import:leads, import:events, ...")
@click.option("--pending", is_flag=True, help="Only input not replayed yet.")
@click.option("--limit", default=50, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the rows (with payloads) as JSON.")
@_clean_errors
def rejected_list(database: str | None, source: str | None, pending: bool, limit: int, as_json: bool) -> None:
    """The newest rejected input first, each with its reasons."""
    from leadgate.service.replay import list_rejected

    rows = list_rejected(_store(database), limit=limit, source=source, pending=pending)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for row in rows:
        state = f"replayed {row['replayed_at']}" if row["replayed_at"] else "pending"
        click.echo(f"#{row['id']}  {row['received_at'][:19]}  {row['source']}  {state}")
        for problem in row["problems"]:
            click.echo(f"    {problem}")


@rejected.command("replay")
@database_option
@click.argument("rejected_id", type=int)
@click.option(
    "--corrected", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON file with the fixed record or message to ingest instead.",
)  # fmt: skip
@_clean_errors
def rejected_replay(database: str | None, rejected_id: int, corrected: Path | None) -> None:
    """Ingest rejected input again (or its corrected version) if it is now valid."""
    from leadgate.service.replay import StillInvalid, replay

    fixed = None
    if corrected is not None:
        try:
            fixed = json.loads(corrected.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"{corrected}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    try:
        result = replay(_store(database), rejected_id, fixed, actor="cli")
    except StillInvalid as exc:
        click.echo(f"error #{rejected_id} still has problems:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(2)
    click.echo(f"replayed #{rejected_id}: {result.get('accepted', 0)} accepted")


COMMANDS = [import_cmd, rejected]
