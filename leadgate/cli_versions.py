"""CLI: list, show and diff definition versions (added to the ``definitions`` group of cli_service)."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from leadgate.cli_common import reports_errors
from leadgate.cli_service import database_option, definitions

out = Console(soft_wrap=True)
STYLES = {"+": "green", "-": "red", "~": "yellow"}


def _store(database: str | None):  # type: ignore[no-untyped-def]
    from leadgate.cli_service import _store as open_store

    return open_store(database)


@definitions.command("list")
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON.")
@reports_errors
def definitions_list(database: str | None, as_json: bool) -> None:
    """Every stored version: who pushed it when, whether it is active, how many scores and MQLs it made."""
    from leadgate.store.versions import list_versions

    versions = list_versions(_store(database))
    if as_json:
        click.echo(json.dumps([v.to_dict() for v in versions], indent=2))
        return
    if not versions:
        out.print("no definition versions; push one with: leadgate definitions push FILE --author NAME")
        return
    table = Table(show_edge=False, box=None, padding=(0, 2))
    for column in ("id", "name", "version", "author", "pushed (UTC)", "active", "scored", "MQLs"):
        table.add_column(column, justify="right" if column in ("id", "scored", "MQLs") else "left")
    for v in versions:
        table.add_row(
            f"#{v.id}", v.name, v.version, v.author, v.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            "[green]active[/green]" if v.active else "", f"{v.scored:,}", f"{v.mqls:,}",
        )  # fmt: skip
    out.print(table)


@definitions.command("show")
@database_option
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the version's details and source as JSON.")
@reports_errors
def definitions_show(database: str | None, ref: str, as_json: bool) -> None:
    """Print a stored version's YAML exactly as pushed (REF: 12, #12, NAME@VERSION, NAME or active)."""
    from leadgate.store.versions import find_version, list_versions

    store = _store(database)
    row = find_version(store, ref)
    if as_json:
        info = next(v for v in list_versions(store) if v.id == row.id)
        click.echo(json.dumps({**info.to_dict(), "source": row.source}, indent=2))
        return
    click.echo(row.source, nl=not row.source.endswith("\n"))


@definitions.command("diff")
@database_option
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@reports_errors
def definitions_diff(database: str | None, old: str, new: str, as_json: bool) -> None:
    """What changed from OLD to NEW, rule by rule.  Each is a definition file or a stored version
    (12, #12, NAME@VERSION, NAME or active)."""
    from leadgate.definition.diff import diff_definitions
    from leadgate.store.versions import resolve

    (a, a_label), (b, b_label) = resolve(old, database), resolve(new, database)
    diff = diff_definitions(a, b, a_label, b_label)
    if as_json:
        click.echo(json.dumps(diff.to_dict(), indent=2))
        return
    lines = diff.lines()
    out.print(Text(lines[0], style="bold"))
    for line in lines[1:]:
        marker = line.strip()[:1]
        style = STYLES.get(marker) if line.startswith("  ") else "bold"
        out.print(Text(line, style=style or ""))
