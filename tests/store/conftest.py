"""Store fixtures for definitions with account roll-ups and model predictions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from leadgate.store.store import IncomingEvent, Store
from tests.conftest import ROOT

NOW = datetime(2026, 11, 1, 12, 0, 0)
ABM = ROOT / "tests" / "fixtures" / "store" / "abm_predictive.yaml"


@pytest.fixture
def abm_store(store_url: str) -> Iterator[Store]:
    st = Store(store_url)
    st.upgrade()
    st.activate(st.push_definition(ABM.read_text(), author="tests").id, actor="tests")
    yield st
    st.engine.dispose()


def people(store: Store, accounts: dict[str, str | None]) -> None:
    """Leads by id with their account (created a month ago)."""
    with store.session() as s, s.begin():
        for lead_id, account_id in accounts.items():
            lead = store.resolve(s, user_id=lead_id, at=NOW - timedelta(days=30))
            if account_id is not None:
                store.upsert_account(s, account_id, {}, at=NOW)
                lead.account_id = account_id


def track(store: Store, lead_id: str, prefix: str, events: list[tuple[str, dict[str, object]]]) -> None:
    with store.session() as s, s.begin():
        store.record_events(
            s,
            [
                IncomingEvent(f"{prefix}{i}", lead_id, name, NOW - timedelta(hours=1), properties=props)
                for i, (name, props) in enumerate(events)
            ],
        )
