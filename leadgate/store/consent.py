"""Consent per lead (email, sms, sales contact), from identify traits and the API.

TRUE given, FALSE refused, NULL never stated (treated as allowed).  What each flag governs:

- ``sales_contact``: routing skips a lead that refused it and closes its open assignments; subscriptions
  that respect consent (the default) get no events about it, and its pending deliveries to them are cancelled;
- ``email``, ``sms``: leadgate sends neither, so they govern the subscriptions that declare they need them
  (``require_consent``, e.g. a marketing-email tool needs ``email``): no events about a lead that refused
  one, and its pending deliveries to them are cancelled.

``consent.changed`` itself goes to every subscription: the CRM must learn of a withdrawal.  Every payload
carries the three flags.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadgate.errors import LeadgateError
from leadgate.store import outbox
from leadgate.store.models import Lead
from leadgate.store.models_lifecycle import CONSENT_FLAGS, Assignment, LeadConsent

FLAGS = CONSENT_FLAGS
#: Trait names (after flattening nested objects with dots) that carry each flag.
TRAIT_NAMES = {
    "email": ("consent.email", "consent_email", "email_opt_in"),
    "sms": ("consent.sms", "consent_sms", "sms_opt_in"),
    "sales_contact": ("consent.sales_contact", "consent_sales_contact", "consent.sales", "sales_contact_opt_in"),
}
TRUE = frozenset({"true", "yes", "y", "1", "granted", "given", "opt_in", "opt-in", "on"})
FALSE = frozenset({"false", "no", "n", "0", "denied", "refused", "withdrawn", "opt_out", "opt-out", "off"})


def as_flag(value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, str)):
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
    raise LeadgateError(f"{where}: expected true or false (or yes / no, granted / denied), found {value!r}")


def from_traits(traits: dict[str, Any]) -> dict[str, bool | None]:
    """The consent flags flattened identify traits state (only those they state)."""
    found: dict[str, bool | None] = {}
    for flag, names in TRAIT_NAMES.items():
        for name in names:
            if name in traits:
                try:
                    found[flag] = as_flag(traits[name], f"traits.{name}")
                except LeadgateError:
                    continue  # an unreadable trait is kept as a trait but states nothing
                break
    return found


def current(s: Session, lead_id: str) -> dict[str, bool | None]:
    row = s.get(LeadConsent, lead_id)
    return dict.fromkeys(FLAGS) if row is None else {f: getattr(row, f) for f in FLAGS}


def allows_sales_contact(s: Session, lead_id: str) -> bool:
    row = s.get(LeadConsent, lead_id)
    return row is None or row.sales_contact is not False


def update(
    s: Session, lead: Lead, flags: dict[str, bool | None], *, source: str, actor: str, now: datetime
) -> dict[str, bool | None]:
    """Set the given flags; on a change, emit ``consent.changed`` and apply the new refusals."""
    unknown = set(flags) - set(FLAGS)
    if unknown:
        raise LeadgateError(f"consent: unknown flags {', '.join(sorted(unknown))}; expected {', '.join(FLAGS)}")
    row = s.get(LeadConsent, lead.id)
    before = current(s, lead.id)
    after = {**before, **flags}
    if after == before and row is not None:
        return after
    if row is None:
        row = LeadConsent(lead_id=lead.id, source=source, updated_at=now)
        s.add(row)
    for flag in FLAGS:
        setattr(row, flag, after[flag])
    row.source, row.updated_at = source, now
    s.flush()
    newly = _refused(after) - _refused(before)
    if newly:
        _apply_refusals(s, [lead.id], newly, now)
    if after != before:
        _announce(s, lead.id, after, before, source=source, actor=actor, now=now)
    return after


def _refused(flags: dict[str, bool | None]) -> frozenset[str]:
    return frozenset(f for f, value in flags.items() if value is False)


def _apply_refusals(s: Session, lead_ids: list[str], refused: frozenset[str], now: datetime) -> None:
    """Refusals of these leads, all one person: a refused sales contact closes the open assignments; the
    pending deliveries to subscriptions that need a refused flag are cancelled."""
    if "sales_contact" in refused:
        for a in s.scalars(select(Assignment).where(Assignment.lead_id.in_(lead_ids), Assignment.status == "open")):
            a.status, a.closed_at, a.closed_reason = "closed", now, "consent_withdrawn"
    for lead_id in lead_ids:
        outbox.cancel_for_lead(s, lead_id, refused_flags=refused)


def _announce(
    s: Session,
    lead_id: str,
    after: dict[str, bool | None],
    before: dict[str, bool | None],
    *,
    source: str,
    actor: str,
    now: datetime,
) -> None:
    data = {"lead": {"id": lead_id}, "consent": after, "before": before, "source": source, "actor": actor}
    outbox.emit(s, "consent.changed", data, lead_id=lead_id, now=now)


def merge(s: Session, loser_id: str, survivor_id: str, now: datetime) -> None:
    """One person, one consent: a refusal on either wins, then a grant, else unknown.  Call it after the
    loser's assignments moved to the survivor: a refusal then has the effects it has in ``update`` on both
    (open assignments closed, pending deliveries of either lead cancelled), and a change of the survivor's
    flags is announced (``consent.changed``, source ``merge``)."""
    before = current(s, survivor_id)
    lost = s.get(LeadConsent, loser_id)
    if lost is not None:
        kept = s.get(LeadConsent, survivor_id)
        if kept is None:
            kept = LeadConsent(lead_id=survivor_id, source=lost.source, updated_at=now)
            s.add(kept)
        for flag in FLAGS:
            values = {getattr(lost, flag), getattr(kept, flag)}
            setattr(kept, flag, False if False in values else True if True in values else None)
        kept.updated_at = now
        s.delete(lost)
        s.flush()
    after = current(s, survivor_id)
    if _refused(after):
        _apply_refusals(s, [survivor_id, loser_id], _refused(after), now)
    if after != before:
        _announce(s, survivor_id, after, before, source="merge", actor="system", now=now)
