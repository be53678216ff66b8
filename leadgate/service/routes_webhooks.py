"""Webhook subscriptions, the delivery log and replay (admin keys).  docs/lifecycle.md lists every route."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from leadgate.service.auth import Admin
from leadgate.store import outbox, subscriptions
from leadgate.store.store import Store

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


class SubscriptionIn(BaseModel):
    name: str
    url: str
    event_types: list[str] = Field(default_factory=lambda: ["*"])
    secret: str | None = Field(default=None, description="whsec_<base64>; leave it out to get a new one.")
    respect_consent: bool = Field(default=True, description="No events about leads that refused sales contact.")
    require_consent: list[str] = Field(
        default_factory=list,
        description="Consent flags the endpoint needs too (email, sms): no events about leads that refused one.",
    )


class ReplayIn(BaseModel):
    delivery_ids: list[int] | None = None
    subscription_id: int | None = None
    since: datetime | None = None
    event_type: str | None = None
    lead_id: str | None = None
    status: str | None = Field(default=None, description="pending, delivered, dead or cancelled")


@router.get("/event-types")
def event_types(_key: Admin) -> list[str]:
    return list(outbox.EVENT_TYPES)


@router.post("")
def subscribe(body: SubscriptionIn, key: Admin, request: Request) -> dict[str, Any]:
    """Subscribe an endpoint; the answer shows its signing secret once."""
    return subscriptions.add(
        _store(request),
        name=body.name,
        url=body.url,
        event_types=body.event_types,
        secret=body.secret,
        respect_consent=body.respect_consent,
        require_consent=body.require_consent,
        actor=f"key:{key.prefix}",
    )


@router.get("")
def list_subscriptions(_key: Admin, request: Request) -> list[dict[str, Any]]:
    return subscriptions.list_all(_store(request))


@router.delete("/{subscription_id}")
def disable(subscription_id: int, key: Admin, request: Request) -> dict[str, Any]:
    """Stop sending to a subscription (pending deliveries are cancelled)."""
    return subscriptions.disable(_store(request), subscription_id, actor=f"key:{key.prefix}")


@router.get("/deliveries")
def deliveries(
    _key: Admin,
    request: Request,
    status: str | None = None,
    lead_id: str | None = None,
    subscription_id: int | None = None,
    limit: int = 100,
    attempts: bool = False,
) -> list[dict[str, Any]]:
    """The delivery log, newest first; ``attempts=true`` adds every HTTP attempt."""
    return subscriptions.deliveries(
        _store(request),
        status=status,
        lead_id=lead_id,
        subscription_id=subscription_id,
        limit=limit,
        attempts=attempts,
    )


@router.post("/replay")
def replay(body: ReplayIn, key: Admin, request: Request) -> dict[str, int]:
    """Send deliveries again with their original webhook-id (by id, or by filters)."""
    since = body.since.astimezone(UTC).replace(tzinfo=None) if body.since and body.since.tzinfo else body.since
    count = subscriptions.replay(
        _store(request),
        delivery_ids=body.delivery_ids,
        subscription_id=body.subscription_id,
        since=since,
        event_type=body.event_type,
        lead_id=body.lead_id,
        status=body.status,
        actor=f"key:{key.prefix}",
    )
    return {"queued": count}
