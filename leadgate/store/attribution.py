"""First-touch attribution: where a lead first came from, kept per lead in ``lead_attribution``.

The first touch is the lead's earliest non-bot event by event time; its campaign comes from Segment's
``context.campaign`` (name, source, medium, term, content), else from ``utm_*`` parameters of the page URL;
the channel is derived from the medium, else from the referrer's host.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadgate.store.models_lifecycle import LeadAttribution

SEARCH = frozenset({"google", "bing", "duckduckgo", "yahoo", "baidu", "yandex", "ecosia", "qwant"})
SOCIAL = frozenset({"facebook", "linkedin", "twitter", "instagram", "youtube", "reddit", "tiktok", "fb"})
SOCIAL_HOSTS = frozenset({"t.co", "x.com", "lnkd.in"})
MEDIUM_CHANNEL = {
    "cpc": "paid_search",
    "ppc": "paid_search",
    "paid_search": "paid_search",
    "paidsearch": "paid_search",
    "sem": "paid_search",
    "paid_social": "paid_social",
    "paidsocial": "paid_social",
    "social_paid": "paid_social",
    "email": "email",
    "e-mail": "email",
    "newsletter": "email",
    "display": "display",
    "banner": "display",
    "cpm": "display",
    "affiliate": "affiliate",
    "social": "organic_social",
    "social-media": "organic_social",
    "social_media": "organic_social",
    "organic": "organic_search",
    "referral": "referral",
}


class TouchEvent(Protocol):
    lead_id: str
    ts: datetime
    properties: dict[str, Any]
    context: dict[str, Any]
    is_bot: bool


def _host(url: str | None) -> str:
    if not url:
        return ""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text[:200] or None


def _labels(host: str) -> set[str]:
    return set(host.split("."))


def channel_of(source: str | None, medium: str | None, referrer: str | None, landing_host: str = "") -> str:
    """The marketing channel of a touch (docs/lifecycle.md lists the values)."""
    src = (source or "").lower()
    if medium:
        med = medium.lower()
        if med in ("cpc", "ppc", "paid") and (src in SOCIAL or _labels(src) & SOCIAL):
            return "paid_social"
        return MEDIUM_CHANNEL.get(med, "other")
    if src:
        return "other"
    host = _host(referrer)
    if not host or host == landing_host:
        return "direct"
    if _labels(host) & SEARCH:
        return "organic_search"
    if host in SOCIAL_HOSTS or _labels(host) & SOCIAL:
        return "organic_social"
    return "referral"


def touch_of(e: TouchEvent) -> dict[str, Any]:
    """The attribution fields one event carries."""
    ctx = e.context or {}
    page: dict[str, Any] = ctx["page"] if isinstance(ctx.get("page"), dict) else {}
    url = e.properties.get("url") or page.get("url")
    referrer = e.properties.get("referrer") or page.get("referrer")
    path = e.properties.get("path") or page.get("path")
    campaign: dict[str, Any] = ctx["campaign"] if isinstance(ctx.get("campaign"), dict) else {}
    utm: dict[str, str] = {}
    if isinstance(url, str):
        try:
            utm = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items() if k.startswith("utm_") and v}
        except ValueError:
            utm = {}
    source = _text(campaign.get("source")) or _text(utm.get("utm_source"))
    medium = _text(campaign.get("medium")) or _text(utm.get("utm_medium"))
    return {
        "source": source,
        "medium": medium,
        "campaign": _text(campaign.get("name")) or _text(utm.get("utm_campaign")),
        "content": _text(campaign.get("content")) or _text(utm.get("utm_content")),
        "term": _text(campaign.get("term")) or _text(utm.get("utm_term")),
        "referrer": str(referrer)[:1000] if isinstance(referrer, str) and referrer else None,
        "landing_page": str(path)[:1000] if isinstance(path, str) and path else None,
        "channel": channel_of(source, medium, referrer if isinstance(referrer, str) else None, _host(url)),
    }


def capture(s: Session, events: Iterable[TouchEvent], now: datetime) -> None:
    """Make each lead's earliest event seen so far its first touch."""
    earliest: dict[str, TouchEvent] = {}
    for e in events:
        if e.is_bot:
            continue
        best = earliest.get(e.lead_id)
        if best is None or e.ts < best.ts:
            earliest[e.lead_id] = e
    if not earliest:
        return
    # only the times: most leads already have an earlier first touch, and loading their rows is the cost
    query = select(LeadAttribution.lead_id, LeadAttribution.first_seen_at).where(
        LeadAttribution.lead_id.in_(list(earliest))
    )
    current: dict[str, datetime] = {lead_id: seen for lead_id, seen in s.execute(query)}
    for lead_id, e in earliest.items():
        seen = current.get(lead_id)
        if seen is not None and seen <= e.ts:
            continue
        fields = touch_of(e)
        row = None if seen is None else s.get(LeadAttribution, lead_id)
        if row is None:
            s.add(LeadAttribution(lead_id=lead_id, first_seen_at=e.ts, updated_at=now, **fields))
        else:
            for key, value in fields.items():
                setattr(row, key, value)
            row.first_seen_at, row.updated_at = e.ts, now


def merge(s: Session, loser_id: str, survivor_id: str) -> None:
    """The survivor keeps the earlier of the two first touches."""
    lost = s.get(LeadAttribution, loser_id)
    if lost is None:
        return
    kept = s.get(LeadAttribution, survivor_id)
    if kept is None or lost.first_seen_at < kept.first_seen_at:
        if kept is not None:
            s.delete(kept)
            s.flush()
        fields = {c: getattr(lost, c) for c in ("channel", "source", "medium", "campaign", "content", "term")}
        fields |= {"referrer": lost.referrer, "landing_page": lost.landing_page}
        s.add(
            LeadAttribution(lead_id=survivor_id, first_seen_at=lost.first_seen_at, updated_at=lost.updated_at, **fields)
        )
    s.delete(lost)
