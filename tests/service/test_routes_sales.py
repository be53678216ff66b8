"""The sales API over HTTP: feedback with reasons, first touch, explicit moves, consent, opportunities (JSON
and CSV), erasure; keys by scope and the one error shape (404 unknown, 409 stage conflict, 400 bad input)."""

from __future__ import annotations

from typing import Any

import httpx

from leadgate.store import routing
from leadgate.store.models import Lead
from tests.conftest import EXAMPLES
from tests.service.conftest import Server
from tests.store.lifecycle_helpers import OWN_REASONS, add_lead


def call(server: Server, method: str, path: str, key: str | None = None, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{server.url}{path}", auth=(key or server.admin_key, ""), **kw)


def test_feedback_moves_stages_with_reasons_and_errors_have_one_shape(server: Server) -> None:
    routing.push_file(server.store, (EXAMPLES / "routing" / "default.yaml").read_text(), author="t", activate_it=True)
    sales_key = server.store.create_key("crm", "sales")
    add_lead(server.store, "ann")
    add_lead(server.store, "bob")
    backdated = call(server, "POST", "/api/leads/ann/first-touch", sales_key, json={"at": "2020-01-01T00:00:00Z"})
    assert backdated.status_code == 400 and "is before lead 'ann' was assigned" in backdated.json()["error"]["message"]
    future = call(server, "POST", "/api/leads/ann/first-touch", sales_key, json={"at": "2999-01-01T00:00:00+02:00"})
    assert future.status_code == 400 and "is in the future" in future.json()["error"]["message"]
    touched = call(server, "POST", "/api/leads/ann/first-touch", sales_key, json={"channel": "call", "user": "dan"})
    assert touched.status_code == 200 and touched.json()["speed_to_lead_seconds"] >= 0
    assert touched.json()["sla_met"] is True
    accepted = call(server, "POST", "/api/leads/ann/accept", sales_key, json={"user": "dan"})
    assert accepted.json()["stage"] == "sql"
    again = call(server, "POST", "/api/leads/ann/accept", sales_key, json={})
    assert again.status_code == 409 and again.json()["error"]["code"] == "stage_conflict"
    bad = call(server, "POST", "/api/leads/bob/reject", sales_key, json={"reason": "meh"})
    assert bad.status_code == 400 and "expected one of not_a_fit" in bad.json()["error"]["message"]
    rejected = call(server, "POST", "/api/leads/bob/reject", sales_key, json={"reason": "no_budget", "note": "2027"})
    assert rejected.json()["stage"] == "disqualified"
    missing = call(server, "POST", "/api/leads/nobody/recycle", sales_key, json={"reason": "not_now"})
    assert missing.status_code == 404 and set(missing.json()["error"]) == {"code", "message", "details"}
    moved = call(server, "POST", "/api/leads/bob/stage", sales_key, json={"to": "mql", "reason": "wrong_reject"})
    assert moved.json()["stage"] == "mql"
    history = call(server, "GET", "/api/leads/bob/lifecycle", sales_key).json()
    assert [(c["to"], c["reason"], c["actor"]) for c in history["stage_changes"]][-2:] == [
        ("disqualified", "no_budget", f"key:{sales_key.split('_')[1]}"),
        ("mql", "wrong_reject", f"key:{sales_key.split('_')[1]}"),
    ]
    assert history["stage_changes"][-1]["mql_type"] == "manual"
    assert history["feedback"][0] == {**history["feedback"][0], "action": "reject", "reason": "no_budget"}
    # a write key ingests only; a sales key cannot push routing or erase
    assert call(server, "POST", "/api/leads/ann/accept", server.write_key, json={}).status_code == 403
    assert call(server, "POST", "/api/leads/ann/erase", sales_key).status_code == 403
    assert call(server, "GET", "/api/routing", sales_key).status_code == 403
    assert call(server, "GET", "/api/routing").json()["routes"][0]["name"] == "demo_request"
    assigned = call(server, "GET", "/api/assignments", sales_key, params={"owner": "carol"}).json()
    assert {a["lead_id"] for a in assigned} == {"ann"} and assigned[0]["first_touch_at"] is not None


def test_reason_codes_are_the_routing_files(server: Server) -> None:
    pushed = call(server, "POST", "/api/routing", json={"source": OWN_REASONS, "activate": True})
    assert pushed.status_code == 200 and pushed.json()["active"] is True
    sales_key = server.store.create_key("crm", "sales")
    add_lead(server.store, "rae")
    refused = call(server, "POST", "/api/leads/rae/reject", sales_key, json={"reason": "no_budget"})
    assert refused.status_code == 400
    assert "'no_budget' is not a reject reason; expected one of wrong_persona" in refused.json()["error"]["message"]
    rejected = call(server, "POST", "/api/leads/rae/reject", sales_key, json={"reason": "wrong_persona"})
    assert rejected.status_code == 200 and rejected.json()["stage"] == "disqualified"
    assert call(server, "GET", "/api/routing").json()["reasons"]["reject"] == ["wrong_persona"]


def test_opportunities_move_leads_to_opportunity_and_customer(server: Server) -> None:
    add_lead(server.store, "cat")
    with server.store.session() as s, s.begin():
        server.store.upsert_account(s, "acme.test", {"domain": "acme.test"})
        lead = s.get(Lead, "cat")
        assert lead is not None
        lead.account_id = "acme.test"
    opened = call(server, "POST", "/api/opportunities",
                  json={"id": "o1", "lead_id": "cat", "amount": 5000, "stage": "Discovery"})  # fmt: skip
    assert opened.status_code == 200 and opened.json()["account_id"] == "acme.test"  # the lead's account
    assert call(server, "GET", "/api/leads/cat").json()["stage"] == "opportunity"
    csv_body = (
        "id,email,amount,currency,stage,status,close_date\n"
        "o1,cat@acme.test,7500.50,USD,Closed Won,won,2026-12-01\n"
        "o2,nobody@x.test,100,USD,Open,open,\n"
        "o3,cat@acme.test,-5,USD,Open,open,\n"
        "o4,cat@acme.test,10,usd,Open,open,2026-13-01\n"
    )
    imported = call(server, "POST", "/api/opportunities/import", content=csv_body,
                    headers={"content-type": "text/csv"}).json()  # fmt: skip
    assert imported["stored"] == 1
    assert [(r["row"], r["field"]) for r in imported["rejected"]] == [
        (3, "email"),
        (4, "amount"),
        (5, "currency"),
        (5, "close_date"),
    ]
    won = call(server, "GET", "/api/opportunities/o1").json()
    assert (won["amount"], won["status"], won["close_date"]) == (7500.5, "won", "2026-12-01")
    assert call(server, "GET", "/api/leads/cat").json()["stage"] == "customer"
    assert call(server, "GET", "/api/opportunities/nope").status_code == 404
    bad = call(server, "POST", "/api/opportunities", json={"id": "o9", "amount": "lots"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_consent_and_erasure_over_http(server: Server) -> None:
    add_lead(server.store, "dot")
    set_ = call(server, "PUT", "/api/leads/dot/consent", json={"sales_contact": "no", "sms": True})
    assert set_.json()["consent"] == {"email": None, "sms": True, "sales_contact": False}
    bad = call(server, "PUT", "/api/leads/dot/consent", json={"fax": True})
    assert bad.status_code == 400 and "unknown flags fax" in bad.json()["error"]["message"]
    texter = call(server, "POST", "/api/webhooks", json={"name": "sms", "url": "http://127.0.0.1:9/s",
                                                         "require_consent": ["sms"]})  # fmt: skip
    assert texter.status_code == 200 and texter.json()["require_consent"] == ["sms"]
    assert call(server, "GET", "/api/webhooks").json()[0]["require_consent"] == ["sms"]
    fax = call(server, "POST", "/api/webhooks", json={"name": "f", "url": "http://x.test", "require_consent": ["fax"]})
    assert fax.status_code == 400
    erased = call(server, "POST", "/api/leads/dot/erase").json()
    assert erased["erasure_id"].startswith("erasure:") and erased["removed"]["leads"] == 1
    assert call(server, "GET", "/api/leads/dot").status_code == 404


def test_every_route_is_documented() -> None:
    from leadgate.service import routes_sales, routes_webhooks

    docs = (EXAMPLES.parent / "docs" / "lifecycle.md").read_text()
    for router in (routes_sales.router, routes_webhooks.router):
        for route in router.routes:
            for method in route.methods:  # type: ignore[attr-defined]
                assert f"`{method} {route.path}`" in docs, f"docs/lifecycle.md does not document {method} {route.path}"  # type: ignore[attr-defined]
