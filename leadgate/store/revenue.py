"""Opportunities from the CRM, through the API or a CSV file, linked to leads and accounts.

An open opportunity moves its lead to ``opportunity``, a won one to ``customer`` (sales' own records, so
these moves are allowed from recycled or disqualified too; never backward from customer).  A lost one
moves nothing.  A CSV import checks every row first: the good rows are stored in one transaction, each bad
one is reported with its row number and field.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadgate.errors import InputError, LeadgateError, RowError
from leadgate.store import lifecycle, outbox, payloads
from leadgate.store.clock import utcnow
from leadgate.store.models import Account, DefinitionVersion, Identity, Lead
from leadgate.store.models_lifecycle import Opportunity
from leadgate.store.store import Store, normalize_email

COLUMNS = ("id", "name", "lead_id", "email", "account_id", "amount", "currency", "stage", "status", "close_date")


class OpportunityIn(BaseModel):
    """One opportunity as the API or a CSV row gives it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=300)
    lead_id: str | None = None
    email: str | None = None
    account_id: str | None = None
    amount: float = Field(ge=0)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    stage: str = Field(default="open", min_length=1, max_length=64)
    status: Literal["open", "won", "lost"] = "open"
    close_date: date | None = None
    lost_reason: str | None = Field(default=None, max_length=200)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


def _lead_of(s: Session, item: OpportunityIn) -> Lead | None:
    lead: Lead | None = None
    if item.lead_id:
        lead = s.get(Lead, item.lead_id)
        if lead is None:
            raise LeadgateError(f"lead_id: no lead {item.lead_id!r}")
    elif item.email:
        normalized = normalize_email(item.email)
        ident = s.scalars(select(Identity).where(Identity.kind == "email", Identity.value == normalized)).first()
        if ident is None:
            raise LeadgateError(f"email: no lead with email {item.email!r}")
        lead = s.get(Lead, ident.lead_id)
    while lead is not None and lead.merged_into:
        lead = s.get(Lead, lead.merged_into)
    return lead


def upsert(s: Session, item: OpportunityIn, *, actor: str, source: str, now: datetime) -> Opportunity:
    """Create or update one opportunity and move its lead's stage if the deal says so."""
    lead = _lead_of(s, item)
    account_id = item.account_id or (lead.account_id if lead is not None else None)
    if account_id is not None and s.get(Account, account_id) is None:
        raise LeadgateError(f"account_id: no account {account_id!r}")
    if lead is None and account_id is None:
        raise LeadgateError("an opportunity needs a lead_id, an email or an account_id")
    row = s.get(Opportunity, item.id)
    if row is None:
        row = Opportunity(id=item.id, created_at=now, source=source)
        s.add(row)
    row.name, row.lead_id, row.account_id = item.name, None if lead is None else lead.id, account_id
    row.amount, row.currency, row.stage, row.status = item.amount, item.currency, item.stage, item.status
    row.close_date, row.lost_reason, row.updated_at, row.source = item.close_date, item.lost_reason, now, source
    s.flush()
    if lead is not None:
        target = {"open": "opportunity", "won": "customer"}.get(item.status)
        if (
            target is not None
            and lead.stage != "customer"
            and lead.stage != target
            and not (lead.stage in lifecycle.FORWARD and not lifecycle.ahead(target, lead.stage))
        ):
            lifecycle.change(
                s,
                lead,
                target,
                reason=f"opportunity_{item.status}",
                actor=actor,
                cause="opportunity",
                now=now,
                definition_version_id=s.scalar(select(DefinitionVersion.id).where(DefinitionVersion.active)),
                details={"opportunity": item.id, "amount": item.amount},
            )
    if outbox.wanted(s, "opportunity.updated"):
        data: dict[str, Any] = {"opportunity": to_dict(row)}
        if lead is not None:
            data |= payloads.lead_context(s, lead, now, full=False)
        outbox.emit(s, "opportunity.updated", data, lead_id=None if lead is None else lead.id, now=now)
    return row


def to_dict(row: Opportunity) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "lead_id": row.lead_id,
        "account_id": row.account_id,
        "amount": row.amount,
        "currency": row.currency,
        "stage": row.stage,
        "status": row.status,
        "close_date": None if row.close_date is None else row.close_date.isoformat(),
        "lost_reason": row.lost_reason,
        "source": row.source,
    }


def save(store: Store, item: OpportunityIn, *, actor: str) -> dict[str, Any]:
    with store.session() as s, s.begin():
        return to_dict(upsert(s, item, actor=actor, source="api", now=utcnow()))


def get(store: Store, opportunity_id: str) -> dict[str, Any] | None:
    with store.session() as s:
        row = s.get(Opportunity, opportunity_id)
        return None if row is None else to_dict(row)


def _row_errors(exc: ValidationError, name: str, number: int) -> list[RowError]:
    return [
        RowError(name, number, ".".join(str(p) for p in e["loc"]) or None, e["msg"].removeprefix("Value error, "))
        for e in exc.errors()
    ]


def import_csv(store: Store, source: Path | str, *, actor: str, text: str | None = None) -> tuple[int, list[RowError]]:
    """Import opportunities from CSV (header: ``id, amount`` and any of ``name, lead_id, email,
    account_id, currency, stage, status, close_date, lost_reason``).  Returns (stored, rejected rows)."""
    name = str(source)
    if text is None:
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{name}: cannot read the file ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in (*COLUMNS, "lost_reason")]
    if not header or "id" not in header or "amount" not in header or unknown:
        detail = f"unknown columns {', '.join(unknown)}" if unknown else "missing id or amount"
        raise InputError(f"{name}: the header must have id and amount ({detail}); columns: {', '.join(COLUMNS)}")
    items: list[tuple[int, OpportunityIn]] = []
    errors: list[RowError] = []
    for number, raw in enumerate(reader, start=2):
        if None in raw:
            errors.append(RowError(name, number, None, "more values than header columns"))
            continue
        try:
            items.append((number, OpportunityIn.model_validate(raw)))
        except ValidationError as exc:
            errors.extend(_row_errors(exc, name, number))
    stored = 0
    now = utcnow()
    with store.session() as s, s.begin():
        for number, item in items:
            try:
                with s.begin_nested():
                    upsert(s, item, actor=actor, source="csv", now=now)
                stored += 1
            except LeadgateError as exc:
                field, _, message = str(exc).partition(": ")
                errors.append(RowError(name, number, field if message else None, message or str(exc)))
    return stored, sorted(errors, key=lambda e: e.row)
