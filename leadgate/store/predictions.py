"""Model predictions in the store: the contract ``leadgate predict`` writes into.

A prediction is one model's probability of the outcome for one lead at one instant, with the factors that
drove it.  Definitions read the latest one of a model scored at or before the as-of instant
(``predicted`` conditions, docs/semantics.md); older ones stay as history.  Rows are checked before
anything is written: one bad row rejects the call, naming each problem, and nothing is half-stored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from leadgate.errors import LeadgateError
from leadgate.store.models import Lead, Prediction

MAX_MODEL = 200
MAX_MODEL_VERSION = 64
EPOCH = datetime(1970, 1, 1)
#: Merged leads are followed to their survivor; a chain longer than this is a broken store.
MAX_MERGE_HOPS = 32
#: Ids per lookup query, rows per insert statement.
CHUNK = 500
INSERT_CHUNK = 5000


@dataclass
class IncomingPrediction:
    """One prediction to record.

    ``scored_at`` is when the model scored the lead (aware, or naive meaning UTC); ``factors`` are its top
    factors, e.g. ``[{"factor": "pricing_visits_30d", "weight": 0.8}]`` (any JSON list)."""

    lead_id: str
    model: str
    probability: float
    scored_at: datetime
    factors: list[Any] = field(default_factory=list)
    model_version: str | None = None


_FIELDS = {f.name for f in fields(IncomingPrediction)}


def _micros(when: datetime) -> int:
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    delta = when - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _problems(p: Any) -> list[str]:
    """What is wrong with one row (empty when nothing is)."""
    out: list[str] = []
    if not isinstance(p.lead_id, str) or not p.lead_id:
        out.append(f"lead_id: expected a lead id, found {p.lead_id!r}")
    if not isinstance(p.model, str) or not p.model or len(p.model) > MAX_MODEL:
        out.append(f"model: expected a name of 1 to {MAX_MODEL} characters, found {p.model!r}")
    if (
        isinstance(p.probability, bool)
        or not isinstance(p.probability, (int, float))
        or not math.isfinite(p.probability)
        or not 0 <= p.probability <= 1
    ):
        out.append(f"probability: expected a number from 0 to 1, found {p.probability!r}")
    if not isinstance(p.scored_at, datetime):
        out.append(f"scored_at: expected a datetime, found {p.scored_at!r}")
    if not isinstance(p.factors, list):
        out.append(f"factors: expected a list, found {type(p.factors).__name__}")
    else:
        try:
            json.dumps(p.factors, allow_nan=False)
        except (TypeError, ValueError) as exc:
            out.append(f"factors: not JSON: {exc}")
    if p.model_version is not None and (
        not isinstance(p.model_version, str) or len(p.model_version) > MAX_MODEL_VERSION
    ):
        out.append(f"model_version: expected text of at most {MAX_MODEL_VERSION} characters, found {p.model_version!r}")
    return out


def _row(item: IncomingPrediction | Mapping[str, Any]) -> IncomingPrediction:
    if isinstance(item, IncomingPrediction):
        return item
    unknown = sorted(set(item) - _FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(_FIELDS))}")
    try:
        return IncomingPrediction(**item)
    except TypeError as exc:
        raise ValueError(str(exc).replace("IncomingPrediction.__init__() ", "")) from None


def _live_ids(s: Session, lead_ids: set[str]) -> dict[str, str]:
    """Lead id -> the live lead it is now (merged leads followed to the survivor); unknown ids are absent."""
    out: dict[str, str] = {}
    todo = {i: i for i in lead_ids}  # original id -> where the chain has got to
    for _ in range(MAX_MERGE_HOPS):
        if not todo:
            break
        wanted = sorted(set(todo.values()))
        found: dict[str, str | None] = {}
        for start in range(0, len(wanted), CHUNK):
            query = select(Lead.id, Lead.merged_into).where(Lead.id.in_(wanted[start : start + CHUNK]))
            found.update((lead_id, merged) for lead_id, merged in s.execute(query))
        nxt: dict[str, str] = {}
        for original, current in todo.items():
            if current not in found:
                continue
            merged = found[current]
            if merged is None:
                out[original] = current
            else:
                nxt[original] = merged
        todo = nxt
    return out


def record_predictions(s: Session, rows: Iterable[IncomingPrediction | Mapping[str, Any]]) -> list[str]:
    """Check every row, then store them all; returns the live lead ids they were recorded for (sorted), so
    the caller can re-score those leads.  Raises LeadgateError naming every bad row and stores nothing."""
    items: list[IncomingPrediction] = []
    problems: list[str] = []
    for i, raw in enumerate(rows):
        try:
            item = _row(raw)
        except ValueError as exc:
            problems.append(f"row {i}: {exc}")
            continue
        problems += [f"row {i}: {msg}" for msg in _problems(item)]
        items.append(item)
    live = _live_ids(s, {p.lead_id for p in items if isinstance(p.lead_id, str)}) if not problems else {}
    if not problems:
        problems += [f"row {i}: lead_id: no lead {p.lead_id!r}" for i, p in enumerate(items) if p.lead_id not in live]
    if problems:
        shown = "; ".join(problems[:20]) + (f"; … and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise LeadgateError(f"predictions not recorded: {shown}")
    values = []
    for p in items:
        scored_us = _micros(p.scored_at)
        values.append(
            {
                "lead_id": live[p.lead_id],
                "model": p.model,
                "model_version": p.model_version,
                "probability": float(p.probability),
                "factors": p.factors,
                "scored_at": EPOCH + timedelta(microseconds=scored_us),  # naive UTC, like every DateTime here
                "scored_us": scored_us,
            }
        )
    for start in range(0, len(values), INSERT_CHUNK):
        s.execute(insert(Prediction), values[start : start + INSERT_CHUNK])
    return sorted(set(live.values()))


def latest_for_lead(s: Session, lead_id: str, model: str | None = None) -> list[dict[str, Any]]:
    """The latest prediction of each model (or of ``model``) for a lead, as stored: probability, when it was
    scored, the model's version and its top factors; ordered by model name.  Ties at one instant are broken
    as ``predicted`` conditions break them (the highest probability).  A merged lead's id is followed to
    the lead it is now; an unknown one has none."""
    live = _live_ids(s, {lead_id}).get(lead_id)
    if live is None:
        return []
    query = select(Prediction).where(Prediction.lead_id == live)
    if model is not None:
        query = query.where(Prediction.model == model)
    query = query.order_by(Prediction.model, Prediction.scored_us.desc(), Prediction.probability.desc())
    latest: dict[str, Prediction] = {}
    for row in s.scalars(query):
        latest.setdefault(row.model, row)
    return [
        {
            "model": p.model,
            "model_version": p.model_version,
            "probability": p.probability,
            "scored_at": (EPOCH + timedelta(microseconds=p.scored_us)).isoformat() + "Z",
            "factors": p.factors,
        }
        for p in latest.values()
    ]
