"""The native REST API over a real server (SQLite, and PostgreSQL in its suite): upserts, events, imports,
problems per item, idempotency, accounts from email domains and group calls, replay, status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from leadgate.service.app import create_app
from tests.conftest import EXAMPLES
from tests.service.conftest import Server

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


def post(server: Server, path: str, body: Any, key: str | None = None) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json=body, auth=(key or server.write_key, ""), timeout=30)


def lead(server: Server, lead_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/leads/{lead_id}", auth=(server.admin_key, ""))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_upserting_leads_one_and_many(server: Server) -> None:
    one = post(server, "/api/leads", {"id": "crm-1", "email": "Ann@Acme.io", "traits": {"title": "VP Sales"}})
    assert one.status_code == 200 and one.json()["results"] == [{"index": 0, "lead_id": "crm-1"}]
    many = post(server, "/api/leads", [
        {"id": "crm-1", "traits": {"country": "FR"}},                       # update: traits merge
        {"email": "bob@gmail.com", "traits": {"title": "Student"}},         # email only, free mail
        {"traits": {"title": "nobody"}},                                    # no identifier
        {"id": "crm-3", "email": "not-an-email", "account": 7},             # two problems
    ])  # fmt: skip
    body = many.json()
    assert many.status_code == 200 and body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [2, 3]
    assert body["rejected"][0]["problems"] == ["a lead needs an id or an email"]
    assert len(body["rejected"][1]["problems"]) == 3 and body["rejected"][1]["problems"][0].startswith("email: ")
    ann = lead(server, "crm-1")
    assert ann["traits"]["title"] == "VP Sales" and ann["traits"]["country"] == "FR"
    assert ann["account_id"] == "acme.io" and ann["traits"]["email_free"] is False
    bob = lead(server, body["results"][1]["lead_id"])
    assert bob["account_id"] is None and bob["traits"]["email_free"] is True  # free mail: no company account


def test_a_single_bad_record_is_a_400_naming_each_problem_and_kept(server: Server) -> None:
    bad = post(server, "/api/events", {"lead_id": "crm-1", "timestamp": "yesterday", "colour": "red"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_record"
    problems = bad.json()["error"]["details"]
    assert any(p.startswith("event: ") for p in problems) and any(p.startswith("timestamp: ") for p in problems)
    assert any(p.startswith("colour: ") for p in problems)  # unknown fields are named, not ignored
    listed = httpx.get(f"{server.url}/api/rejected?source=api", auth=(server.admin_key, "")).json()
    assert listed[0]["payload"] == {"kind": "event", "record": {"lead_id": "crm-1", "timestamp": "yesterday",
                                                                "colour": "red"}}  # fmt: skip
    fixed = {"lead_id": "crm-1", "event": "demo_requested", "timestamp": "2026-11-20T10:00:00Z"}
    replayed = httpx.post(f"{server.url}/api/rejected/{listed[0]['id']}/replay", json=fixed,
                          auth=(server.admin_key, ""))  # fmt: skip
    assert replayed.status_code == 200 and replayed.json()["accepted"] == 1
    assert server.store.status()["rejected_pending"] == 0


def test_events_are_idempotent_by_id_and_rescored_like_segment_ones(server: Server) -> None:
    post(server, "/api/leads", {"id": "u1", "email": "ceo@orbit.io", "traits": {"title": "CEO"}})
    events = [{"id": f"e-{name}", "lead_id": "u1", "event": name} for name in
              ("demo_requested", "trial_started", "webinar_attended", "newsletter_subscribed")]  # fmt: skip
    events.append({"id": "e-dl", "email": "ceo@orbit.io", "event": "content_downloaded",
                   "properties": {"asset_type": "case_study"}})  # fmt: skip
    events += [{"id": f"e-p{i}", "lead_id": "u1", "event": "page_view", "properties": {"path": "/pricing"}}
               for i in range(3)]  # fmt: skip
    first = post(server, "/api/events", events).json()
    again = post(server, "/api/events", events).json()
    assert (first["accepted"], first["duplicates"]) == (8, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 8) and all(r["duplicate"] for r in again["results"])
    server.settle()
    found = lead(server, "u1")
    assert found["stage"] == "mql" and found["score"]["total"] == 110.0
    assert server.store.status()["events"] == 8


def test_accounts_from_the_email_domain_until_a_group_call_repoints(server: Server) -> None:
    assert post(server, "/api/accounts", {"id": "acme", "domain": "https://www.acme.io/", "traits": {
        "employees": 120}}).status_code == 200  # fmt: skip
    post(server, "/api/leads", {"id": "a1", "email": "ann@acme.io"})
    assert lead(server, "a1")["account_id"] == "acme"  # the account that has the domain, not a new one
    post(server, "/v1/identify", {"userId": "a2", "traits": {"email": "zed@acme.io"}})
    assert lead(server, "a2")["account_id"] == "acme"
    post(server, "/v1/group", {"userId": "a2", "groupId": "acme-emea", "traits": {"employees": 40}})
    assert lead(server, "a2")["account_id"] == "acme-emea"  # a group call re-points the lead
    post(server, "/v1/identify", {"userId": "a2", "traits": {"email": "zed@acme.io", "title": "VP"}})
    assert lead(server, "a2")["account_id"] == "acme-emea"  # and the email does not take it back
    post(server, "/api/leads", {"id": "a1", "email": "ann@newco.dev"})  # moved companies
    assert lead(server, "a1")["account_id"] == "newco.dev"
    post(server, "/api/leads", {"id": "d1", "email": "x@mailinator.com"})
    assert lead(server, "d1")["account_id"] is None  # disposable domains make no account either
    changed = post(server, "/api/accounts", [{"id": "acme-emea", "traits": {"employees": 60}}]).json()
    assert changed["accepted"] == 1
    server.settle()
    assert lead(server, "a2")["score"]["contributions"]["company_size_50_250"]["count"] == 1  # re-scored


def test_import_upload_with_a_mapping(server: Server) -> None:
    with (
        (FIXTURES / "hubspot_contacts.csv").open("rb") as f,
        (EXAMPLES / "mappings" / "hubspot_contacts.yaml").open("rb") as m,
    ):
        response = httpx.post(
            f"{server.url}/api/imports/leads",
            files={"file": ("hubspot_contacts.csv", f, "text/csv"), "mapping": ("hubspot.yaml", m, "application/yaml")},
            auth=(server.write_key, ""),
            timeout=60,
        )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["accepted"], report["rejected"]) == (7, 3) and report["leads_scored"] == 6
    assert lead(server, "51234007")["account_id"] == "fjordware.com"
    bad = httpx.post(f"{server.url}/api/imports/leads", files={
        "file": ("x.csv", b"a,b\n1,2\n", "text/csv"), "mapping": ("m.yaml", b"kind: leads\ncolumns: {a: title}\n")},
        auth=(server.write_key, ""))  # fmt: skip
    assert bad.status_code == 400 and "target 'title' is not one of" in bad.json()["error"]["message"]
    assert httpx.post(f"{server.url}/api/imports/people", files={"file": ("x.csv", b"a\n")},
                      auth=(server.write_key, "")).status_code == 404  # fmt: skip


def test_write_keys_write_admin_keys_read_status(server: Server) -> None:
    assert post(server, "/api/leads", {"id": "x"}, key="lg_nope_nope").status_code == 401
    status = httpx.get(f"{server.url}/api/status", auth=(server.admin_key, "")).json()
    assert status["leads"] == 0 and status["scorer"] == {"pending": 0, "scored": 0, "errors": 0}
    assert status["schema_revision"] is not None and status["active_definition"]["name"] == "classic"
    post(server, "/api/leads", [{"id": "s1", "email": "s1@acme.io"}, {"id": "s2", "email": "s2@acme.io"}])
    post(server, "/api/events", {"lead_id": "s1", "event": "page_view", "timestamp": "2026-11-01T00:00:00Z"})
    server.settle()
    status = httpx.get(f"{server.url}/api/status", auth=(server.admin_key, "")).json()
    assert (status["leads"], status["accounts"], status["events"]) == (2, 1, 1)
    assert status["last_event_time"] == "2026-11-01 00:00:00" and status["last_event_at"] is not None


def test_openapi_documents_every_endpoint_and_the_docs_name_them(server: Server) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    leads_body = spec["paths"]["/api/leads"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert leads_body["oneOf"][1]["type"] == "array" and "email" in leads_body["oneOf"][0]["properties"]
    docs = "\n".join(p.read_text() for p in (Path(__file__).resolve().parents[2] / "docs").glob("*.md"))
    app = create_app(server.store, background=False)
    for path, methods in app.openapi()["paths"].items():
        for method in methods:
            assert f"{method.upper()} {path}" in docs, f"{method.upper()} {path} is not in docs/"


def test_consent_traits_on_an_upsert_are_recorded_like_identify_ones(server: Server) -> None:
    post(server, "/api/leads", {"id": "c1", "email": "c1@acme.io", "traits": {"email_opt_in": "no"}})
    found = httpx.get(f"{server.url}/api/leads/c1/lifecycle", auth=(server.admin_key, "")).json()
    assert found["consent"]["email"] is False
