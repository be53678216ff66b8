"""Helpers for the lifecycle tests: a ready store, and leads that qualify under examples/classic.yaml."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from leadgate.store import routing
from leadgate.store.clock import utcnow
from leadgate.store.store import IncomingEvent, Store
from tests.conftest import EXAMPLES

ROUTING = (EXAMPLES / "routing" / "default.yaml").read_text()

#: Reason codes of the team's own: the defaults (no_budget, not_now, ...) no longer apply.
OWN_REASONS = """
schema: 1
name: own_reasons
version: 1
teams: {sdr: {members: [alice]}}
routes: [{name: default, team: sdr}]
reasons:
  reject: [wrong_persona]
  recycle: [next_quarter]
  move: [data_fix]
"""


def ready(url: str, *, routing_text: str | None = ROUTING) -> Store:
    store = Store(url)
    store.upgrade()
    version = store.push_definition((EXAMPLES / "classic.yaml").read_text(), author="tests")
    store.activate(version.id, actor="tests")
    if routing_text is not None:
        routing.push_file(store, routing_text, author="tests", activate_it=True)
    return store


#: 105 points with a senior title: demo 25, trial 30, webinar 10, case study 10, pricing x3 15, title 15.
QUALIFYING = [
    ("demo_requested", {}),
    ("trial_started", {}),
    ("webinar_attended", {}),
    ("content_downloaded", {"asset_type": "case_study"}),
    ("page_view", {"path": "/pricing"}),
    ("page_view", {"path": "/pricing/teams"}),
    ("page_view", {"path": "/pricing", "url": "https://acme.test/pricing?utm_source=google&utm_medium=cpc"}),
]


def add_lead(
    store: Store,
    lead_id: str,
    *,
    events: list[tuple[str, dict[str, Any]]] | None = None,
    at: datetime | None = None,
    title: str = "VP Sales",
    email: str | None = None,
    traits: dict[str, Any] | None = None,
    prefix: str = "",
) -> list[str]:
    """Create (or update) a known lead with these events and score it; returns the new MQL ids."""
    when = at or utcnow()
    with store.session() as s, s.begin():
        lead = store.resolve(s, user_id=lead_id, email=email or f"{lead_id}@acme.test")
        store.set_email(lead, email or f"{lead_id}@acme.test")
        lead.traits = {**lead.traits, "title": title, **(traits or {})}
        batch = events if events is not None else QUALIFYING
        store.record_events(
            s,
            [
                IncomingEvent(
                    message_id=f"{prefix}{lead_id}-{i}-{when.isoformat()}",
                    lead_id=lead_id,
                    event=name,
                    ts=when - timedelta(seconds=len(batch) - i),
                    properties=props,
                )
                for i, (name, props) in enumerate(batch)
            ],
        )
    outcome = store.score([lead_id])
    assert outcome is not None
    return outcome.new_mqls
