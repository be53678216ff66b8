"""Replaying rejected input: a Segment message or a native record (posted or imported) that was kept in
``rejected`` is checked again (optionally as corrected by a person) and, if it is now valid, ingested
like new input; the row is marked replayed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from leadgate.errors import LeadgateError
from leadgate.service.ingest import ingest, problems_of
from leadgate.service.records import check, submit
from leadgate.service.scorer import LeadScorer
from leadgate.store.models import Rejected
from leadgate.store.store import Store, utcnow


class NotFound(LeadgateError):
    pass


@dataclass
class StillInvalid(LeadgateError):
    """The replayed input still has problems (nothing was stored)."""

    problems: list[str]

    def __post_init__(self) -> None:
        super().__init__("; ".join(self.problems))


def list_rejected(store: Store, *, limit: int = 100, source: str | None = None, pending: bool = False) -> list[dict]:
    """The newest rejected input first: source, reasons, the payload, and when it was replayed."""
    with store.reader() as s:
        query = select(Rejected).order_by(Rejected.id.desc()).limit(limit)
        if source is not None:
            query = query.where(Rejected.source.startswith(source))
        if pending:
            query = query.where(Rejected.replayed_at.is_(None))
        return [
            {
                "id": r.id,
                "received_at": r.received_at.isoformat(),
                "source": r.source,
                "problems": r.problems["problems"],
                "payload": r.payload,
                "replayed_at": r.replayed_at.isoformat() if r.replayed_at else None,
            }
            for r in s.scalars(query)
        ]


def replay(
    store: Store,
    rejected_id: int,
    corrected: dict[str, Any] | None = None,
    *,
    actor: str,
    scorer: LeadScorer | None = None,
) -> dict[str, Any]:
    """Ingest rejected input ``rejected_id`` (or ``corrected``, its fixed version) if it is now valid."""
    with store.reader() as s:
        row = s.get(Rejected, rejected_id)
        if row is None:
            raise NotFound(f"no rejected input {rejected_id}")
        payload = dict(row.payload)
        row_problems = row.problems["problems"]
    kind = payload.get("kind") if "record" in payload else None
    if kind is not None:  # a native record, posted or imported
        if corrected is None and payload.get("converted") is False:  # a cell did not convert: fix it first
            raise StillInvalid(list(row_problems))
        record = corrected if corrected is not None else payload["record"]
        _, problems = check(kind, record)
        if problems:
            raise StillInvalid(problems)
        applied = submit(store, kind, [record], actor=actor, source="replay")
        if scorer is not None and applied.touched:
            scorer.submit(sorted(applied.touched))
        result: dict[str, Any] = applied.to_dict()
    else:  # a Segment message
        message = corrected if corrected is not None else payload
        problems = problems_of(message)
        if problems:
            raise StillInvalid(problems)
        result = ingest(store, [message], actor=actor, scorer=scorer).to_dict()
    with store.session() as s, s.begin():
        stored = s.get(Rejected, rejected_id)
        if stored is not None:
            stored.replayed_at = utcnow()
    return result
