"""Trained predictive models in the store (``leadgate predict train --database``): the same JSON document
as the model file, kept by name and version so ``leadgate predict score --model NAME`` finds the latest.

The document is opaque here (the store layer does not import the calibration package); versions are
content digests, so storing the same model twice keeps one row.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from leadgate.errors import LeadgateError
from leadgate.store.models import TrainedModel

if TYPE_CHECKING:
    from leadgate.store.store import Store


def save_model(store: Store, document: dict[str, Any], trained_at: datetime, created_at: datetime) -> TrainedModel:
    """Store a model document (``name``, ``version`` and ``outcome`` keys required); idempotent."""
    with store.session() as s, s.begin():
        existing = s.scalars(
            select(TrainedModel).where(
                TrainedModel.name == document["name"], TrainedModel.version == document["version"]
            )
        ).first()
        if existing is not None:
            return existing
        row = TrainedModel(
            name=document["name"],
            version=document["version"],
            outcome=document["outcome"],
            trained_at=trained_at,
            created_at=created_at,
            document=document,
        )
        s.add(row)
    return row


def load_model(store: Store, name: str, version: str | None = None) -> dict[str, Any]:
    """The latest stored model of that name (or that version of it)."""
    query = select(TrainedModel).where(TrainedModel.name == name)
    if version is not None:
        query = query.where(TrainedModel.version == version)
    with store.session() as s:
        row = s.scalars(query.order_by(TrainedModel.created_at.desc(), TrainedModel.id.desc())).first()
    if row is None:
        which = f"version {version} of " if version else ""
        raise LeadgateError(f"no trained model {which}{name!r} in {store.url}; train one with leadgate predict train")
    return dict(row.document)


def list_models(store: Store) -> list[TrainedModel]:
    with store.session() as s:
        return list(s.scalars(select(TrainedModel).order_by(TrainedModel.name, TrainedModel.id)))
