"""Native records: leads, accounts and events as a CRM or a file knows them, checked and applied to the store.

The native REST API (``routes_rest.py``) and bulk imports (``imports.py``) share this: each record is
validated on its own (every problem named by field), the good ones of a batch are applied in one
transaction, and the bad ones are kept in ``rejected`` with their problems so they can be listed, fixed and
replayed.  A lead's email sets its account from the email's domain (free-mail and disposable domains
excluded) until an explicit account, a ``group`` call or an upsert naming one, re-points it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadgate.inputs.mapping import validation_problems
from leadgate.service.validation import EmailProblem, check_email, email_traits
from leadgate.store import consent
from leadgate.store.models import Account, Identity, Lead
from leadgate.store.store import (
    IncomingEvent,
    Store,
    clean_domain,
    email_domain,
    normalize_email,
    to_micros,
    utcnow,
)

T = TypeVar("T")
Kind = Literal["lead", "account", "event"]
Id = Annotated[str, Field(min_length=1, max_length=200)]
#: Lead trait names the store keeps in columns of their own: not stored again as traits.
CORE_TRAITS = frozenset({"id", "email", "lead_id", "account_id"})


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: Any) -> Any:
        return None if value == "" else value


class AccountRef(_Record):
    """The account a lead belongs to: its id or its domain (the account with that domain, else a new one
    named by it), and its traits.  With traits only, they go to the account of the lead's company email;
    a lead without one keeps them as its own traits, ``account_NAME``."""

    id: Id | None = None
    domain: str | None = None
    traits: dict[str, Any] = Field(default_factory=dict)

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        return None if value is None else clean_domain(value)


class LeadRecord(_Record):
    """A lead to create or update: at least one of ``id`` and ``email``.  Traits are merged into the
    lead's; ``account`` (an id or an object) re-points the lead to that account."""

    id: Id | None = None
    email: str | None = None
    anonymous_id: Id | None = None
    traits: dict[str, Any] = Field(default_factory=dict)
    account: Id | AccountRef | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_email(value)
        except EmailProblem as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _identified(self) -> LeadRecord:
        if self.id is None and self.email is None:
            raise ValueError("a lead needs an id or an email")
        return self


class AccountRecord(AccountRef):
    """An account to create or update by ``id``; traits are merged into its traits."""

    id: Id


class EventRecord(_Record):
    """An event of a lead named by ``lead_id``, ``email`` or ``anonymous_id``.  With an ``id`` it is
    idempotent (stored once however often it is posted); without one, an exact repeat is recognised too."""

    id: Id | None = None
    lead_id: Id | None = None
    email: str | None = None
    anonymous_id: Id | None = None
    event: Annotated[str, Field(min_length=1, max_length=200)]
    timestamp: datetime | None = None
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return LeadRecord._email(value)

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value

    @model_validator(mode="after")
    def _identified(self) -> EventRecord:
        if self.lead_id is None and self.email is None and self.anonymous_id is None:
            raise ValueError("an event needs a lead_id, an email or an anonymous_id")
        return self


MODELS: dict[str, type[_Record]] = {"lead": LeadRecord, "account": AccountRecord, "event": EventRecord}


def check(kind: str, record: Any) -> tuple[_Record | None, list[str]]:
    """The validated record, or None and every problem as ``field: message``."""
    if not isinstance(record, dict):
        return None, [f"a {kind} is a JSON object"]
    try:
        return MODELS[kind].model_validate(record), []
    except ValidationError as exc:
        return None, validation_problems(exc)


@dataclass
class Applied:
    """What a batch of records did: per-item outcomes, and the leads whose scores may have moved."""

    accepted: int = 0
    duplicates: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "results": self.results,
            "rejected": self.rejected,
        }


def flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted names: ``{"a": {"b": 1}}`` → ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def in_transaction(store: Store, work: Callable[[Session], T], attempts: int = 3) -> T:
    """Run ``work`` in one write transaction.  On PostgreSQL two requests can create the same new lead or
    identity at once; the loser's transaction fails on the unique key and is retried, finding the winner's
    rows (on SQLite writers are serialized and this does not happen)."""
    for attempt in range(attempts):
        try:
            with store.session() as s, s.begin():
                return work(s)
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


# -- what learning an email or an account does to a lead ------------------------------------------------
def domain_account(s: Session, store: Store, domain: str, at: datetime) -> str:
    """The account of a company domain: the one that already has it, else a new account named by it."""
    cache: dict[str, str | None] = s.info.setdefault("domains", {})  # filled in bulk by prefetch_domains
    existing = cache[domain] if domain in cache else s.scalar(select(Account.id).where(Account.domain == domain))
    if existing is not None:
        cache[domain] = existing
        return existing
    store.upsert_account(s, domain, {"domain": domain}, at=at)
    cache[domain] = domain
    return domain


def prefetch_domains(s: Session, domains: set[str]) -> None:
    """Look up the accounts of many company domains in one query per 500 (for ``domain_account``)."""
    cache: dict[str, str | None] = s.info.setdefault("domains", {})
    wanted = sorted(d for d in domains if d not in cache)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = s.execute(select(Account.domain, Account.id).where(Account.domain.in_(chunk)))
        found: dict[str | None, str] = {domain: account_id for domain, account_id in rows}
        cache.update({d: found.get(d) for d in chunk})


def learn_email(s: Session, store: Store, lead: Lead, email: str, at: datetime) -> dict[str, Any]:
    """Set the lead's email; returns the traits it implies (free-mail, disposable).  The account follows
    the email's company domain unless the lead's account came from elsewhere (a group call, an upsert)."""
    previous_domain = lead.email_domain
    store.set_email(lead, email)
    domain = email_domain(email)
    if domain is None:
        return {}
    traits: dict[str, Any] = dict(email_traits(domain))
    company = not (traits["email_free"] or traits["email_disposable"])
    from_domain = lead.account_id is None
    if not from_domain and previous_domain is not None and previous_domain != domain:
        current = s.get(Account, lead.account_id)
        from_domain = current is not None and current.domain == previous_domain  # set by the old address
    if company and from_domain:
        lead.account_id = domain_account(s, store, domain, at)
    return traits


def set_account(s: Session, store: Store, lead: Lead, account: str | AccountRef, at: datetime) -> dict[str, Any]:
    """Re-point the lead to an explicitly named account (created or updated).  Returns the traits left on
    the lead (an account given by traits only, for a lead without a company email)."""
    if isinstance(account, str):
        if s.get(Account, account) is None:
            store.upsert_account(s, account, {}, at=at)
        lead.account_id = account
        return {}
    traits = flatten(account.traits)
    if account.id is None and account.domain is None:
        if lead.account_id is None:
            return {f"account_{k}": v for k, v in traits.items()}
        store.upsert_account(s, lead.account_id, traits, at=at)
        return {}
    if account.domain:
        traits["domain"] = account.domain
    account_id = account.id or domain_account(s, store, account.domain or "", at)
    store.upsert_account(s, account_id, traits, at=at)
    lead.account_id = account_id
    return {}


# -- applying records --------------------------------------------------------------------------------
def apply_leads(
    store: Store, s: Session, records: list[LeadRecord], actor: str, at: datetime | None = None
) -> list[str]:
    """Create or update leads (merging by email as identify does); returns their ids, in order."""
    now = at or utcnow()
    pairs = [("user_id", r.id) for r in records if r.id] + [
        ("email", normalize_email(r.email) or "") for r in records if r.email
    ]
    known = store.prefetch(s, pairs)
    domains = {email_domain(r.email) for r in records if r.email}
    domains |= {r.account.domain for r in records if isinstance(r.account, AccountRef) and r.account.domain}
    prefetch_domains(s, {d for d in domains if d})
    ids: list[str] = []
    keys_of = [_lead_keys(r) for r in records]
    shared = Counter(k for keys in keys_of for k in keys)
    new_ids = [_new_lead_id(r) for r in records]
    taken: set[str] = set()
    for start in range(0, len(new_ids), 500):
        taken.update(s.scalars(select(Lead.id).where(Lead.id.in_(new_ids[start : start + 500]))))
    fresh: dict[int, Lead] = {}
    for n, (keys, lead_id) in enumerate(zip(keys_of, new_ids, strict=True)):
        if lead_id not in taken and all(known.get(k) is None and shared[k] == 1 for k in keys):
            # someone new, named once in this batch: created in bulk, no resolution needed
            fresh[n] = Lead(
                id=lead_id, created_at=now, created_us=to_micros(now), updated_at=now, traits={}, known=True
            )
            taken.add(lead_id)
    if fresh:
        s.add_all(fresh.values())
        s.flush()
        identities = [
            {"kind": k, "value": v, "lead_id": new_ids[n], "created_at": now} for n in fresh for k, v in keys_of[n]
        ]
        s.execute(insert(Identity), identities)
        for n in fresh:
            known.update(dict.fromkeys(keys_of[n], new_ids[n]))
    for n, r in enumerate(records):
        lead = fresh.get(n) or store.resolve(
            s, user_id=r.id, anonymous_id=r.anonymous_id, email=r.email, at=now, actor=actor, known=known
        )
        updates = {k: v for k, v in flatten(r.traits).items() if k not in CORE_TRAITS}
        if r.email:
            updates.update(learn_email(s, store, lead, r.email, now))
        if r.account is not None:
            updates.update(set_account(s, store, lead, r.account, now))
        lead.traits = {**lead.traits, **updates}
        lead.updated_at = now
        flags = consent.from_traits(updates)  # consent traits (email_opt_in, ...) as identify reads them
        if flags:
            consent.update(s, lead, flags, source="traits", actor=actor, now=now)
        ids.append(lead.id)
    return ids


def _lead_keys(r: LeadRecord) -> list[tuple[str, str]]:
    given = [("user_id", r.id), ("email", normalize_email(r.email)), ("anonymous_id", r.anonymous_id)]
    return [(k, v) for k, v in given if v]


def _new_lead_id(r: LeadRecord) -> str:
    """The id ``Store.resolve`` gives a new lead with these identifiers."""
    if r.id:
        return r.id
    return f"anon:{r.anonymous_id}" if r.anonymous_id else f"email:{normalize_email(r.email)}"


def apply_accounts(store: Store, s: Session, records: list[AccountRecord], at: datetime | None = None) -> list[str]:
    now = at or utcnow()
    for r in records:
        traits = flatten(r.traits)
        if r.domain:
            traits["domain"] = r.domain
        store.upsert_account(s, r.id, traits, at=now)
    return [r.id for r in records]


def event_message_id(r: EventRecord) -> str:
    if r.id:
        return r.id
    body = r.model_dump(mode="json", exclude={"id"})
    return "sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def apply_events(
    store: Store, s: Session, records: list[EventRecord], actor: str, source: str = "api", at: datetime | None = None
) -> tuple[list[str], list[IncomingEvent]]:
    """Store events (idempotent by id); returns each record's lead and the events that were new."""
    now = at or utcnow()
    pairs = [("user_id", r.lead_id) for r in records if r.lead_id]
    pairs += [("anonymous_id", r.anonymous_id) for r in records if r.anonymous_id]
    pairs += [("email", normalize_email(r.email) or "") for r in records if r.email]
    known = store.prefetch(s, pairs)
    merged: dict[str, str] = s.info.setdefault("merged", {})
    lead_ids: list[str] = []
    events: list[IncomingEvent] = []
    for r in records:
        keys = [(k, v) for k, v in (("user_id", r.lead_id), ("anonymous_id", r.anonymous_id),
                                    ("email", normalize_email(r.email))) if v]  # fmt: skip
        found = {known.get(k) for k in keys}
        lead_id = found.pop() if len(found) == 1 else None
        while lead_id in merged:
            lead_id = merged[lead_id]
        if lead_id is None:
            lead = store.resolve(
                s, user_id=r.lead_id, anonymous_id=r.anonymous_id, email=r.email, at=now, actor=actor, known=known
            )
            if r.email and lead.email is None:
                lead.traits = {**lead.traits, **learn_email(s, store, lead, r.email, now)}
            lead_id = lead.id
        lead_ids.append(lead_id)
        ts = r.timestamp.astimezone(UTC).replace(tzinfo=None) if r.timestamp else now
        events.append(
            IncomingEvent(
                message_id=event_message_id(r), lead_id=lead_id, event=r.event, ts=ts,
                properties=flatten(r.properties), source=source,
            )
        )  # fmt: skip
    return lead_ids, store.record_events(s, events)


def submit(store: Store, kind: str, items: list[Any], *, actor: str, source: str = "api") -> Applied:
    """Check a batch of records, apply the good ones in one transaction, keep the bad ones in ``rejected``."""
    out = Applied()
    good: list[tuple[int, Any]] = []
    bad: list[tuple[int, Any, list[str]]] = []
    for index, item in enumerate(items):
        record, problems = check(kind, item)
        if record is None:
            bad.append((index, item, problems))
        else:
            good.append((index, record))

    def write(s: Session) -> None:
        out.results, out.touched, out.rejected = [], set(), []
        for index, item, problems in bad:
            payload = {"kind": kind, "record": item if isinstance(item, dict) else {"value": item}}
            store.reject(s, source, payload, problems)
            out.rejected.append({"index": index, "problems": problems})
        records = [r for _, r in good]
        if kind == "lead":
            ids = apply_leads(store, s, records, actor)  # type: ignore[arg-type]
            out.results = [{"index": i, "lead_id": lead_id} for (i, _), lead_id in zip(good, ids, strict=True)]
            out.touched.update(ids)
            out.accepted = len(ids)
        elif kind == "account":
            ids = apply_accounts(store, s, records)  # type: ignore[arg-type]
            out.results = [{"index": i, "account_id": a} for (i, _), a in zip(good, ids, strict=True)]
            out.accepted = len(ids)
        else:
            lead_ids, fresh = apply_events(store, s, records, actor, source)  # type: ignore[arg-type]
            new = {e.message_id for e in fresh}
            for (i, r), lead_id in zip(good, lead_ids, strict=True):
                mid = event_message_id(r)
                out.results.append({"index": i, "lead_id": lead_id, "id": mid, "duplicate": mid not in new})
            out.touched.update(lead_ids)
            out.accepted = len(fresh)
            out.duplicates = len(records) - len(fresh)

    in_transaction(store, write)
    if kind == "account" and out.accepted:
        out.touched |= touched_by_accounts(store, [r.id for _, r in good])  # type: ignore[attr-defined]
    return out


def touched_by_accounts(store: Store, account_ids: list[str]) -> set[str]:
    """The leads of these accounts: an account's traits feed its leads' fit rules."""
    leads: set[str] = set()
    with store.reader() as s:
        for start in range(0, len(account_ids), 500):
            chunk = account_ids[start : start + 500]
            query = select(Lead.id).where(Lead.account_id.in_(chunk), Lead.merged_into.is_(None))
            leads.update(s.scalars(query))
    return leads
