"""CLI commands for what happens after qualification: routing files, sales feedback, consent, erasure,
opportunities, webhooks and the lifecycle timers (registered on the main ``leadgate`` group).

Each command parses, calls one library function, and prints; library errors become a message and exit 2.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from leadgate.cli_common import reports_errors as clean_errors
from leadgate.cli_service import _store, database_option

F = TypeVar("F", bound=Callable[..., Any])


def _json(doc: Any) -> None:
    click.echo(json.dumps(doc, indent=2, default=str))


def _when(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not an ISO-8601 time (e.g. 2026-11-01T09:30:00Z)") from None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


actor_option = click.option("--actor", required=True, help="Who does this (recorded with the change).")
lead_arg = click.argument("lead_id")


# -- routing ------------------------------------------------------------------------------------------------
@click.group()
def routing() -> None:
    """Routing files: teams, routes with SLAs, reason codes, auto-recycle (docs/lifecycle.md)."""


@routing.command("push")
@database_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--author", required=True)
@click.option("--activate", is_flag=True, help="Make it the active routing file.")
@clean_errors
def routing_push(database: str | None, path: Path, author: str, activate: bool) -> None:
    """Store a routing file as a new version (checked first: errors as file:line:col)."""
    from leadgate.definition.routing import load_routing
    from leadgate.store import routing as lib

    load_routing(path)
    row = lib.push_file(_store(database), path.read_text(), author=author, activate_it=activate, filename=str(path))
    click.echo(f"pushed routing {row['name']} v{row['version']} as #{row['id']}" + (" (active)" if activate else ""))


@routing.command("activate")
@database_option
@click.argument("version_id", type=int)
@click.option("--author", required=True)
@clean_errors
def routing_activate(database: str | None, version_id: int, author: str) -> None:
    from leadgate.store import routing as lib

    row = lib.activate_version(_store(database), version_id, actor=author)
    click.echo(f"activated routing {row['name']} v{row['version']} (#{row['id']})")


@routing.command("show")
@database_option
@clean_errors
def routing_show(database: str | None) -> None:
    """The active routing file as JSON (defaults when none is active)."""
    from leadgate.store import routing as lib

    _json(lib.describe(_store(database)))


# -- sales feedback -----------------------------------------------------------------------------------------
@click.group()
def sales() -> None:
    """Sales feedback on leads: accept, reject, recycle, first touch, explicit moves."""


@sales.command("accept")
@database_option
@lead_arg
@actor_option
@click.option("--note")
@clean_errors
def sales_accept(database: str | None, lead_id: str, actor: str, note: str | None) -> None:
    """Accept an MQL: it becomes an SQL."""
    from leadgate.store import feedback

    _json(feedback.accept(_store(database), lead_id, actor=actor, note=note).to_dict())


@sales.command("reject")
@database_option
@lead_arg
@actor_option
@click.option("--reason", required=True, help="A reject reason code from the routing file.")
@click.option("--note")
@clean_errors
def sales_reject(database: str | None, lead_id: str, actor: str, reason: str, note: str | None) -> None:
    """Reject a lead with a reason: it is disqualified."""
    from leadgate.store import feedback

    _json(feedback.reject(_store(database), lead_id, reason=reason, actor=actor, note=note).to_dict())


@sales.command("recycle")
@database_option
@lead_arg
@actor_option
@click.option("--reason", required=True, help="A recycle reason code from the routing file.")
@click.option("--note")
@clean_errors
def sales_recycle(database: str | None, lead_id: str, actor: str, reason: str, note: str | None) -> None:
    """Recycle a lead with a reason: back to marketing until it engages again."""
    from leadgate.store import feedback

    _json(feedback.recycle(_store(database), lead_id, reason=reason, actor=actor, note=note).to_dict())


@sales.command("touch")
@database_option
@lead_arg
@actor_option
@click.option("--channel", help="call, email, meeting, ...")
@click.option("--at", callback=_when, help="When (ISO-8601; default now).")
@clean_errors
def sales_touch(database: str | None, lead_id: str, actor: str, channel: str | None, at: datetime | None) -> None:
    """Record the first touch (speed to lead)."""
    from leadgate.store import feedback

    _json(feedback.touch(_store(database), lead_id, actor=actor, channel=channel, at=at).to_dict())


@sales.command("move")
@database_option
@lead_arg
@actor_option
@click.option("--to", "to", required=True, help="The stage to move to.")
@click.option("--reason", required=True)
@click.option("--note")
@clean_errors
def sales_move(database: str | None, lead_id: str, actor: str, to: str, reason: str, note: str | None) -> None:
    """Move a lead to any stage explicitly (backward or sideways too), with a reason."""
    from leadgate.store import feedback

    _json(feedback.move(_store(database), lead_id, to=to, reason=reason, actor=actor, note=note).to_dict())


@sales.command("show")
@database_option
@lead_arg
@clean_errors
def sales_show(database: str | None, lead_id: str) -> None:
    """A lead's stage, stage changes, assignments, feedback, consent and first touch."""
    from leadgate.store import feedback

    _json(feedback.history(_store(database), lead_id))


# -- consent and erasure ------------------------------------------------------------------------------------
@click.group()
def consent() -> None:
    """Consent flags per lead (email, sms, sales contact)."""


FLAG = click.Choice(["yes", "no", "unset"])


@consent.command("set")
@database_option
@lead_arg
@actor_option
@click.option("--email", type=FLAG)
@click.option("--sms", type=FLAG)
@click.option("--sales-contact", type=FLAG)
@clean_errors
def consent_set(
    database: str | None, lead_id: str, actor: str, email: str | None, sms: str | None, sales_contact: str | None
) -> None:
    """Set consent flags (a lead that refuses sales contact is not routed, and gets no webhooks)."""
    from leadgate.store import feedback

    given = {"email": email, "sms": sms, "sales_contact": sales_contact}
    flags = {k: None if v == "unset" else v == "yes" for k, v in given.items() if v is not None}
    if not flags:
        raise click.UsageError("give at least one of --email, --sms, --sales-contact")
    _json(feedback.set_consent(_store(database), lead_id, flags, actor=actor))


@click.command()
@database_option
@lead_arg
@actor_option
@click.option("--yes", is_flag=True, help="Do it without asking.")
@clean_errors
def erase(database: str | None, lead_id: str, actor: str, yes: bool) -> None:
    """Erase a person: personal data and events everywhere, in one transaction (audited without them)."""
    from leadgate.store import erasure

    if not yes:
        click.confirm(f"Erase lead {lead_id} and everything about them? This cannot be undone", abort=True)
    _json(erasure.erase(_store(database), lead_id, actor=actor))


# -- opportunities ------------------------------------------------------------------------------------------
@click.group()
def opportunities() -> None:
    """Opportunities from the CRM (open → opportunity stage, won → customer)."""


@opportunities.command("import")
@database_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@actor_option
@clean_errors
def opportunities_import(database: str | None, path: Path, actor: str) -> None:
    """Import a CSV: id, amount and any of name, lead_id, email, account_id, currency, stage, status,
    close_date, lost_reason.  Good rows are stored; bad ones are listed (exit 2)."""
    from leadgate.store import revenue

    stored, errors = revenue.import_csv(_store(database), path, actor=actor)
    click.echo(f"stored {stored} opportunities from {path}")
    if errors:
        click.echo(f"{len(errors)} row problem(s):", err=True)
        for row in errors:
            click.echo(f"  {row}", err=True)
        sys.exit(2)


@opportunities.command("show")
@database_option
@click.argument("opportunity_id")
@clean_errors
def opportunities_show(database: str | None, opportunity_id: str) -> None:
    from leadgate.errors import NotFoundError
    from leadgate.store import revenue

    found = revenue.get(_store(database), opportunity_id)
    if found is None:
        raise NotFoundError(f"no opportunity {opportunity_id!r}")
    _json(found)


# -- webhooks -----------------------------------------------------------------------------------------------
@click.group()
def webhooks() -> None:
    """Webhook subscriptions, delivery, the delivery log and replay."""


@webhooks.command("add")
@database_option
@click.argument("url")
@click.option("--name", required=True)
@click.option("--events", default="*", show_default=True, help="Comma-separated event types, or '*'.")
@click.option("--secret", help="whsec_<base64> (default: a new one, printed once).")
@click.option("--ignore-consent", is_flag=True, help="Also send events about leads that refused sales contact.")
@click.option(
    "--require-consent",
    default="",
    help="Comma-separated consent flags the endpoint needs too (email, sms): no events about leads that refused one.",
)
@actor_option
@clean_errors
def webhooks_add(
    database: str | None,
    url: str,
    name: str,
    events: str,
    secret: str | None,
    ignore_consent: bool,
    require_consent: str,
    actor: str,
) -> None:
    """Subscribe an endpoint to event types."""
    from leadgate.store import subscriptions

    _json(
        subscriptions.add(
            _store(database),
            name=name,
            url=url,
            event_types=events.split(","),
            secret=secret,
            respect_consent=not ignore_consent,
            require_consent=require_consent.split(","),
            actor=actor,
        )
    )


@webhooks.command("list")
@database_option
@clean_errors
def webhooks_list(database: str | None) -> None:
    from leadgate.store import subscriptions

    for sub in subscriptions.list_all(_store(database)):
        state = "active" if sub["active"] else "disabled"
        click.echo(f"#{sub['id']}  {state:8s}  {sub['name']}  {sub['url']}  {' '.join(sub['event_types'])}")


@webhooks.command("disable")
@database_option
@click.argument("subscription_id", type=int)
@actor_option
@clean_errors
def webhooks_disable(database: str | None, subscription_id: int, actor: str) -> None:
    from leadgate.store import subscriptions

    subscriptions.disable(_store(database), subscription_id, actor=actor)
    click.echo(f"disabled #{subscription_id}")


@webhooks.command("deliver")
@database_option
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (default: keep running).")
@clean_errors
def webhooks_deliver(database: str | None, once: bool) -> None:
    """Post due deliveries (``leadgate serve`` does this itself)."""
    from leadgate.service.webhooks import DeliveryWorker

    worker = DeliveryWorker(_store(database))
    if once:
        attempted = worker.drain()
        worker.close()
        click.echo(f"attempted {attempted} deliveries; {worker.delivered} delivered")
        return
    worker.start()
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        worker.stop()


@webhooks.command("log")
@database_option
@click.option("--status", type=click.Choice(["pending", "delivered", "dead", "cancelled"]))
@click.option("--lead", "lead_id")
@click.option("--limit", default=50, show_default=True)
@clean_errors
def webhooks_log(database: str | None, status: str | None, lead_id: str | None, limit: int) -> None:
    """The delivery log, newest first, with every attempt."""
    from leadgate.store import subscriptions

    _json(subscriptions.deliveries(_store(database), status=status, lead_id=lead_id, limit=limit, attempts=True))


@webhooks.command("replay")
@database_option
@click.option("--delivery", "delivery_ids", type=int, multiple=True, help="A delivery id (repeatable).")
@click.option("--subscription", "subscription_id", type=int)
@click.option("--since", callback=_when, help="Events created at or after this instant.")
@click.option("--event-type")
@click.option("--lead", "lead_id")
@click.option("--status", type=click.Choice(["pending", "delivered", "dead", "cancelled"]))
@actor_option
@clean_errors
def webhooks_replay(
    database: str | None,
    delivery_ids: tuple[int, ...],
    subscription_id: int | None,
    since: datetime | None,
    event_type: str | None,
    lead_id: str | None,
    status: str | None,
    actor: str,
) -> None:
    """Queue deliveries again with their original webhook-id (a worker sends them)."""
    from leadgate.store import subscriptions

    count = subscriptions.replay(
        _store(database),
        delivery_ids=delivery_ids or None,
        subscription_id=subscription_id,
        since=since,
        event_type=event_type,
        lead_id=lead_id,
        status=status,
        actor=actor,
    )
    click.echo(f"queued {count} deliveries")


@webhooks.command("listen")
@click.option("--port", default=9000, show_default=True, type=int)
@click.option("--secret", help="Check signatures with this whsec_ secret.")
def webhooks_listen(port: int, secret: str | None) -> None:
    """A local receiver that prints each webhook (and whether its signature is valid), for trying them out."""
    from leadgate.service.receiver import Received, WebhookReceiver

    def show(item: Received) -> None:
        mark = {True: "signed ok", False: "BAD SIGNATURE", None: "unchecked"}[item.valid]
        click.echo(f"{item.webhook_id}  {item.type}  lead={item.lead_id}  {mark}")

    receiver = WebhookReceiver(secret, port=port, on_receive=show).start()
    click.echo(f"listening on {receiver.url} (Ctrl-C to stop)", err=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        receiver.stop()


# -- timers -------------------------------------------------------------------------------------------------
@click.group()
def timers() -> None:
    """SLA breaches and auto-recycling (``leadgate serve`` runs them continuously)."""


@timers.command("run")
@database_option
@clean_errors
def timers_run(database: str | None) -> None:
    """One pass: breach every SLA that is due, recycle every MQL left unaccepted too long."""
    from leadgate.service.timers import run_once

    done = run_once(_store(database))
    click.echo(f"breached {len(done['breached'])} SLA(s); recycled {len(done['recycled'])} MQL(s)")


COMMANDS = [routing, sales, consent, erase, opportunities, webhooks, timers]
