"""CLI commands for the live service and its store (registered on the main ``leadgate`` group)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from leadgate.cli_common import reports_errors
from leadgate.definition.loader import load_definition

database_option = click.option(
    "--database", "database", envvar="LEADGATE_DATABASE_URL", default=None,
    help="Store URL (default: $LEADGATE_DATABASE_URL, else sqlite:///leadgate.db).",
)  # fmt: skip


def _store(database: str | None, upgrade: bool = True):  # type: ignore[no-untyped-def]
    from leadgate.store.store import Store

    store = Store(database)
    if upgrade:
        store.upgrade()
    return store


@click.command()
@database_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--rescore-every",
    default=300.0,
    show_default=True,
    type=float,
    help="Seconds between re-scoring everyone as of now (0: never).",
)
@click.option(
    "--scorer",
    type=click.Choice(["process", "thread"]),
    default="process",
    show_default=True,
    help="Score in a process of its own (ingestion and scoring use two cores) or in a thread of the server's.",
)
def serve(database: str | None, host: str, port: int, rescore_every: float, scorer: str) -> None:
    """Run the HTTP service (Segment-compatible ingestion, admin API, OpenAPI docs at /docs)."""
    import uvicorn

    from leadgate.service.app import create_app

    store = _store(database)
    click.echo(f"leadgate serving {store.url} on http://{host}:{port} (docs at /docs)", err=True)
    app = create_app(store, rescore_every=rescore_every or None, scorer_process=scorer == "process")
    uvicorn.run(app, host=host, port=port, log_level="info")


@click.group()
def db() -> None:
    """The store's schema."""


@db.command("upgrade")
@database_option
@reports_errors
def db_upgrade(database: str | None) -> None:
    """Apply migrations up to the newest schema."""
    store = _store(database)
    click.echo(f"{store.url}: schema up to date")


@click.group()
def keys() -> None:
    """API keys: write keys only ingest; sales keys give feedback, opportunities and consent; admin keys
    manage definitions and read data."""


@keys.command("create")
@database_option
@click.option("--name", required=True)
@click.option("--scope", "scope", type=click.Choice(["write", "sales", "admin"]), default="write", show_default=True)
@reports_errors
def keys_create(database: str | None, name: str, scope: str) -> None:
    """Create a key and print it once (only its hash is stored)."""
    click.echo(_store(database).create_key(name, scope))


@keys.command("list")
@database_option
@reports_errors
def keys_list(database: str | None) -> None:
    for key in _store(database).list_keys():
        state = "revoked" if key.revoked_at else "active"
        click.echo(f"{key.prefix}  {key.scopes:6s}  {state:8s}  {key.name}")


@keys.command("revoke")
@database_option
@click.argument("prefix")
@reports_errors
def keys_revoke(database: str | None, prefix: str) -> None:
    """Revoke the key with this prefix (the part after lg_)."""
    _store(database).revoke_key(prefix)
    click.echo(f"revoked {prefix}")


@click.group()
def definitions() -> None:
    """Definition versions in the store."""


@definitions.command("push")
@database_option
@click.argument("definition", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--author", required=True)
@click.option("--activate", is_flag=True, help="Activate it (re-scores everyone).")
@reports_errors
def definitions_push(database: str | None, definition: Path, author: str, activate: bool) -> None:
    """Store DEFINITION as a new version (validated first).  Pushing a NAME@VERSION again with the same
    content changes nothing; with other content it is an error: bump the version."""
    load_definition(definition)  # errors with positions before anything is stored
    store = _store(database)
    row, created = store.push_version(definition.read_text(), author=author, filename=str(definition))
    if created:
        click.echo(f"pushed {row.name} v{row.version} as #{row.id}")
    else:
        click.echo(f"{row.name} v{row.version} is already stored as #{row.id} with the same content; nothing pushed")
    if activate:
        _, outcome = store.activate_and_rescore(row.id, actor=author)
        click.echo(f"activated #{row.id}; re-scored {len(outcome.scores) if outcome else 0} leads")


@definitions.command("activate")
@database_option
@click.argument("ref")
@click.option("--author", required=True)
@reports_errors
def definitions_activate(database: str | None, ref: str, author: str) -> None:
    """Make a stored version the active one and re-score everyone (REF: 12, #12, NAME@VERSION, NAME, active
    or latest)."""
    from leadgate.store.versions import find_version

    store = _store(database)
    version_id = find_version(store, ref).id
    _, outcome = store.activate_and_rescore(version_id, actor=author)
    click.echo(f"activated #{version_id}; re-scored {len(outcome.scores) if outcome else 0} leads")


@click.command()
@database_option
@reports_errors
def rescore(database: str | None) -> None:
    """Re-score every lead as of now (decay and closing windows move scores)."""
    outcome = _store(database).score(None)
    if outcome is None:
        raise click.ClickException("no active definition: leadgate definitions push FILE --activate")
    click.echo(f"re-scored {len(outcome.scores)} leads; {len(outcome.new_mqls)} new MQLs")


@click.command()
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
@reports_errors
def status(database: str | None, as_json: bool) -> None:
    """Counts of leads, accounts, events, MQLs, rejected input; the last event time; the active definition."""
    report = _store(database).status()
    if as_json:
        click.echo(json.dumps(report, default=str, indent=2))
        return
    active = report.pop("active_definition")
    report["active_definition"] = f"{active['name']} v{active['version']} (#{active['id']})" if active else None
    width = max(len(k) for k in report)
    for key, value in report.items():
        shown = f"{value:,}" if isinstance(value, int) else "-" if value is None else value
        click.echo(f"{key.replace('_', ' '):{width}}  {shown}")


COMMANDS = [serve, db, keys, definitions, rescore, status]
