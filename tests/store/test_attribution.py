"""First touch captured with events, on SQLite and PostgreSQL: a lead's earliest non-bot event with campaign or
referrer data; an earlier one arriving late replaces it, a later one never does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from leadgate.store.models_lifecycle import LeadAttribution
from leadgate.store.store import IncomingEvent, Store

NOW = datetime(2026, 11, 1, 12, 0, 0)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = Store(store_url)
    st.upgrade()
    yield st
    st.engine.dispose()


def visit(message_id: str, hours_ago: float, source: str, *, bot: bool = False) -> IncomingEvent:
    context = {"campaign": {"source": source, "medium": "cpc", "name": f"{source}-spring"}}
    return IncomingEvent(message_id, "u1", "page_view", NOW - timedelta(hours=hours_ago), {}, context, is_bot=bot)


def first_touch(store: Store) -> tuple[str | None, str | None, datetime]:
    with store.reader() as s:
        row = s.get(LeadAttribution, "u1")
        assert row is not None
        return row.source, row.campaign, row.first_seen_at


def test_the_earliest_event_is_the_first_touch_even_when_it_arrives_late(store: Store) -> None:
    with store.session() as s, s.begin():
        store.resolve(s, user_id="u1", at=NOW - timedelta(days=2))
        store.record_events(s, [visit("a", 5, "google"), visit("b", 6, "bing")])
    assert first_touch(store) == ("bing", "bing-spring", NOW - timedelta(hours=6))
    with store.session() as s, s.begin():
        store.record_events(s, [visit("c", 1, "linkedin"), visit("d", 30, "crawler", bot=True)])
    assert first_touch(store) == ("bing", "bing-spring", NOW - timedelta(hours=6))  # later, or a bot: kept
    with store.session() as s, s.begin():
        store.record_events(s, [visit("e", 20, "newsletter")])  # earlier, delivered late
    assert first_touch(store) == ("newsletter", "newsletter-spring", NOW - timedelta(hours=20))
