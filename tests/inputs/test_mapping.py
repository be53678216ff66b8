"""Column mappings: targets checked when loaded, cells converted by type, every problem named by column."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadgate.errors import InputError
from leadgate.inputs.mapping import Column, convert, default_mapping, load_mapping, parse_mapping
from tests.conftest import EXAMPLES


def test_shipped_mappings_load() -> None:
    hubspot = load_mapping(EXAMPLES / "mappings" / "hubspot_contacts.yaml", "leads")
    salesforce = load_mapping(EXAMPLES / "mappings" / "salesforce_leads.yaml", "leads")
    assert hubspot.columns["Record ID"].to == "id" and hubspot.columns["Record ID"].required
    assert salesforce.columns["No. of Employees"].type == "number"


def test_a_row_becomes_a_native_record() -> None:
    mapping = parse_mapping({
        "kind": "leads",
        "columns": {"ID": "id", "Mail": "email", "Title": "trait.title", "Co": "account.name",
                    "Site": "account.domain", "Size": {"to": "account.employees", "type": "number"},
                    "Opt in": {"to": "trait.opt_in", "type": "boolean"}, "Owner": "ignore"},
        "constants": {"trait.crm": "hubspot"},
    }, "m.yaml")  # fmt: skip
    record, problems = mapping.apply({
        "ID": "7", "Mail": " ann@acme.io ", "Title": "VP", "Co": "Acme", "Site": "acme.io", "Size": "1,200",
        "Opt in": "Yes", "Owner": "Dana", "Extra": "x", "Empty": "",
    })  # fmt: skip
    assert problems == []
    assert record == {
        "id": "7", "email": "ann@acme.io", "traits": {"crm": "hubspot", "title": "VP", "opt_in": True},
        "account": {"domain": "acme.io", "traits": {"name": "Acme", "employees": 1200}},
    }  # fmt: skip


def test_bad_cells_are_named_by_their_column_and_kept_as_found() -> None:
    mapping = parse_mapping({"kind": "events", "columns": {
        "Who": "lead_id", "What": "event", "When": {"to": "timestamp", "type": "timestamp", "format": "%d/%m/%Y"},
        "Amount": {"to": "property.amount", "type": "number"}}}, "m.yaml")  # fmt: skip
    record, problems = mapping.apply({"Who": "L1", "What": "paid", "When": "2026-11-01", "Amount": "ten"})
    assert problems == [
        ("When", "expected a time like '%d/%m/%Y', found '2026-11-01'"),
        ("Amount", "expected a number, found 'ten'"),
    ]
    assert record["timestamp"] == "2026-11-01" and record["properties"] == {"amount": "ten"}


def test_naive_times_are_read_in_the_mappings_time_zone() -> None:
    column = Column(to="timestamp", type="timestamp", format="%m/%d/%Y %I:%M %p", timezone="America/New_York")
    assert convert("11/03/2026 09:30 AM", column) == datetime(2026, 11, 3, 14, 30, tzinfo=UTC)  # EST
    assert convert("2026-11-03T09:30:00+01:00", Column(to="timestamp", type="timestamp")) == datetime(
        2026, 11, 3, 8, 30, tzinfo=UTC
    )
    assert convert("1793000000", Column(to="timestamp", type="timestamp")) == datetime.fromtimestamp(1793000000, UTC)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"kind": "leads", "columns": {"A": "title"}}, "target 'title' is not one of"),
        ({"kind": "leads", "columns": {"A": "trait.title"}}, "nothing is mapped to email or id"),
        ({"kind": "events", "columns": {"A": "lead_id"}}, "nothing is mapped to event"),
        ({"kind": "leads", "columns": {"A": "id", "B": "id"}}, "target 'id' is set twice"),
        ({"kind": "leads", "columns": {"A": {"to": "id", "timezone": "Mars/Olympus"}}}, "unknown time zone"),
        ({"kind": "leads", "columns": {"A": {"to": "id", "type": "money"}}}, "columns.A.type"),
        ({"kind": "people", "columns": {"A": "id"}}, "kind: Input should be"),
    ],
)
def test_bad_mappings_say_what_is_wrong(doc: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=r"m\.yaml: ") as info:
        parse_mapping(doc, "m.yaml")
    assert message in info.value.message


def test_a_mapping_for_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("kind: accounts\ncolumns: {Id: id}\n")
    with pytest.raises(InputError, match="this mapping is for accounts, not leads"):
        load_mapping(path, "leads")


def test_required_columns_must_be_in_the_file() -> None:
    mapping = parse_mapping({"kind": "leads", "columns": {"ID": {"to": "id", "required": True}, "Mail": "email"}}, "m")
    assert mapping.check_header(["ID"], "f.csv") == ["Mail"]
    with pytest.raises(InputError, match=r"column 'ID' required by m is missing; the file has 'Mail'"):
        mapping.check_header(["Mail"], "f.csv")


def test_the_default_mapping_reads_leadgates_own_columns() -> None:
    record, problems = default_mapping("events").apply(
        {"message_id": "m1", "lead_id": "L1", "event": "page_view", "ts": "2026-11-01T00:00:00Z", "path": "/pricing"}
    )
    assert problems == [] and record == {
        "id": "m1", "lead_id": "L1", "event": "page_view", "timestamp": "2026-11-01T00:00:00+00:00",
        "properties": {"path": "/pricing"},
    }  # fmt: skip


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_numbers_with_thousands_separators_read_back(n: int) -> None:
    assert convert(f"{n:,}", Column(to="trait.x", type="number")) == n
