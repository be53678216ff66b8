"""Bulk imports through the shipped mappings on real sample exports (SQLite, and PostgreSQL in its suite):
what loads, what is rejected (file, row, field), identity and accounts, idempotency, scoring at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from leadgate.inputs.mapping import load_mapping
from leadgate.service.imports import import_file
from leadgate.service.replay import StillInvalid, list_rejected, replay
from leadgate.store.models import Account, Event, Lead
from leadgate.store.store import Store
from tests.conftest import EXAMPLES
from tests.service.conftest import ready_store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
MAPPINGS = EXAMPLES / "mappings"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = ready_store(store_url)
    yield st
    st.engine.dispose()


def hubspot(store: Store) -> object:
    mapping = load_mapping(MAPPINGS / "hubspot_contacts.yaml", "leads")
    return import_file(store, "leads", FIXTURES / "hubspot_contacts.csv", mapping)


def test_a_hubspot_contacts_export_loads_without_editing(store: Store) -> None:
    report = hubspot(store)
    assert (report.rows, report.accepted, report.rejected) == (10, 7, 3)  # type: ignore[attr-defined]
    assert report.problems == [  # type: ignore[attr-defined]
        "hubspot_contacts.csv:row 5: Number of Employees: expected a number, found 'about 200'",
        "hubspot_contacts.csv:row 6: Email: The part after the @-sign contains invalid characters: '@'.",
        "hubspot_contacts.csv:row 11: Create Date: expected a time like '%Y-%m-%d %H:%M', found '11/12/2026'",
    ]
    assert report.missing_columns == ["Associated Company"]  # type: ignore[attr-defined]
    with store.reader() as s:
        maya = s.get(Lead, "51234001")
        assert maya is not None and maya.merged_into == "51234009"  # the same address twice: one person
        survivor = s.get(Lead, "51234009")
        assert survivor is not None and survivor.traits["title"] == "VP Marketing"
        assert survivor.traits["first_name"] == "Maya" and survivor.traits["crm"] == "hubspot"
        assert survivor.traits["hubspot_created_at"] == "2026-11-10T08:00:00+00:00"
        tom = s.get(Lead, "51234002")
        assert tom is not None and tom.account_id == survivor.account_id == "brightlane.io"
        account = s.get(Account, "brightlane.io")
        assert account is not None and account.traits["employees"] == 120 and account.domain == "brightlane.io"
        priya = s.get(Lead, "51234003")  # gmail: no company account from the domain, company traits kept
        assert priya is not None and priya.account_id is None and priya.traits["email_free"] is True
        assert priya.traits["account_name"] == "Lumen Analytics" and priya.traits["account_employees"] == 45
        omar = s.get(Lead, "51234008")  # no email: the account from the export's website column
        assert omar is not None and omar.account_id == "haddad.design"
        kenji = s.get(Lead, "51234006")
        assert kenji is not None and kenji.email_domain == "student.ac.uk"
    rejected = list_rejected(store, source="import:leads")
    assert [r["payload"]["row"] for r in rejected] == [11, 6, 5]
    assert rejected[-1]["payload"]["raw"]["Number of Employees"] == "about 200"


def test_a_salesforce_leads_report_loads_without_editing(store: Store) -> None:
    mapping = load_mapping(MAPPINGS / "salesforce_leads.yaml", "leads")
    report = import_file(store, "leads", FIXTURES / "salesforce_leads.csv", mapping)
    assert (report.accepted, report.rejected) == (4, 3)
    assert report.problems[2] == "salesforce_leads.csv:row 8: a lead needs an id or an email"
    with store.reader() as s:
        daniel = s.get(Lead, "00Q5g00000A1bC1EAJ")
        assert daniel is not None and daniel.account_id == "copperleaf.com"  # www. and case cleaned
        assert daniel.traits["salesforce_created_at"] == "2026-10-03T04:00:00+00:00"  # midnight in New York
        assert daniel.traits["email_opt_out"] is False
        james = s.get(Lead, "00Q5g00000A1bC3EAJ")
        assert james is not None and s.get(Account, "harborpine.com").traits["annual_revenue"] == 45_000_000  # type: ignore[union-attr]


def test_events_import_scores_once_at_the_end_and_is_idempotent(store: Store) -> None:
    hubspot(store)
    report = import_file(store, "events", FIXTURES / "events.jsonl")
    assert (report.rows, report.accepted, report.rejected) == (12, 9, 3)
    assert report.new_mqls == ["51234009"] and report.leads_scored == 2
    with store.reader() as s:
        assert s.get(Lead, "51234009").stage == "mql"  # type: ignore[union-attr]
        newcomer = s.scalars(select(Lead).where(Lead.email == "new.person@orbitcart.com")).one()
        assert newcomer.account_id == "orbitcart.com"
        props = s.scalars(select(Event.properties).where(Event.message_id == "hs-web-1")).one()
        assert props == {"webinar": "Forecasting 101"}
    again = import_file(store, "events", FIXTURES / "events.jsonl")
    assert (again.accepted, again.duplicates) == (0, 9)
    with store.reader() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 9


def test_a_rejected_row_is_replayed_once_corrected(store: Store) -> None:
    hubspot(store)
    row = next(r for r in list_rejected(store) if r["payload"]["row"] == 5)
    with pytest.raises(StillInvalid):  # the record as found still has the bad email
        replay(store, next(r for r in list_rejected(store) if r["payload"]["row"] == 6)["id"], actor="tests")
    fixed = {**row["payload"]["record"], "account": {"domain": "fjordware.com", "traits": {"employees": 200}}}
    result = replay(store, row["id"], fixed, actor="tests")
    assert result["accepted"] == 1
    with store.reader() as s:
        lucas = s.get(Lead, "51234004")
        assert lucas is not None and lucas.account_id == "fjordware.com"
        assert s.get(Account, "fjordware.com").traits["employees"] == 200  # type: ignore[union-attr]
    assert list_rejected(store, pending=True, source="import") == [
        r for r in list_rejected(store, source="import") if r["id"] != row["id"]
    ]


def test_a_large_import_is_bulk(store: Store, tmp_path: Path) -> None:
    n = 3000
    leads = tmp_path / "leads.csv"
    leads.write_text("lead_id,email,title\n" + "".join(f"L{i},p{i}@co{i % 50}.com,VP Sales\n" for i in range(n)))
    events = tmp_path / "events.csv"
    events.write_text("message_id,lead_id,event,ts\n" + "".join(
        f"m{i},L{i % n},demo_requested,2026-11-01T00:00:00Z\n" for i in range(2 * n)))  # fmt: skip
    assert import_file(store, "leads", leads).accepted == n
    report = import_file(store, "events", events)
    assert report.accepted == 2 * n and report.leads_scored == n
    with store.reader() as s:
        assert s.scalar(select(func.count()).select_from(Account)) == 50
    outcome = store.score(None)
    assert outcome is not None and {sc.total for sc in outcome.scores} == {40.0}  # VP (15) + demo (25), once
