"""The reports over HTTP: a real server on loopback over the March scenario (tests/reports/conftest.py),
admin keys only, the one error shape, JSON and CSV."""

from __future__ import annotations

import csv
import io

import httpx

from tests.reports.builder import Builder
from tests.reports.conftest import AS_OF, FROM, TO, build_march
from tests.service.conftest import Server

WINDOW = {"from": FROM, "to": TO, "as_of": AS_OF}


def get(server: Server, path: str, key: str | None = None, **params: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {key or server.admin_key}"}
    return httpx.get(server.url + path, params=params, headers=headers, timeout=30)


def test_funnel_speed_and_reasons_over_http(server: Server) -> None:
    build_march(Builder(server.store), definition="march")
    funnel = get(server, "/api/reports/funnel", **WINDOW, by="channel")
    assert funnel.status_code == 200, funnel.text
    body = funnel.json()
    assert (body["report"], body["by"], body["currency"]) == ("funnel", "channel", "USD")
    assert (body["from"], body["to"], body["as_of"]) == (
        "2026-03-02T00:00:00Z",
        "2026-03-16T00:00:00Z",
        "2026-04-30T00:00:00Z",
    )
    assert [r["slice"] for r in body["rows"]] == ["email", "organic_search", "paid_search", "referral", "(none)"]
    (total,) = body["total"]
    assert (total["leads"], total["mqls"], total["sqls"], total["pipeline"]) == (8, 7, 3, 3800.0)
    assert body["rows"][3]["mql_to_sql_rate"] is None  # referral: no MQLs, no rate
    assert [c["name"] for c in body["columns"]][:4] == ["slice", "leads", "leads_qualified", "mql_rate"]

    speed = get(server, "/api/reports/speed", **WINDOW).json()
    assert speed["rows"][0]["sla_attainment"] == 0.25
    reasons = get(server, "/api/reports/reasons", **WINDOW, by="definition_version").json()
    assert reasons["rows"][0] == {
        "slice": "march v1",
        "kind": "recycled",
        "reason": "not_now",
        "count": 1,
        "share": 1.0,
    }


def test_csv(server: Server) -> None:
    build_march(Builder(server.store), definition="march")
    response = get(server, "/api/reports/funnel", **WINDOW, by="week", format="csv", currency="eur")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["slice"], r["mqls"], r["pipeline"]) for r in rows] == [
        ("2026-03-02", "4", "900.0"),
        ("2026-03-09", "3", "0.0"),
    ]


def test_catalog_lists_reports_with_their_definitions(server: Server) -> None:
    body = get(server, "/api/reports").json()
    assert list(body["reports"]) == ["funnel", "speed", "reasons"]
    assert "week" in body["by"]
    assert body["reports"]["speed"]["columns"][-1]["description"] == "sla_met ÷ (sla_met + sla_breached)."


def test_errors_have_the_one_shape(server: Server) -> None:
    assert get(server, "/api/reports/funnel", server.write_key, **WINDOW).status_code == 403
    assert httpx.get(server.url + "/api/reports/funnel", params=WINDOW).status_code == 401
    missing = get(server, "/api/reports/cohorts", **WINDOW)
    assert missing.status_code == 404 and "expected one of funnel, speed, reasons" in missing.json()["error"]["message"]
    bad = get(server, "/api/reports/funnel", **{**WINDOW, "from": "March"})
    assert bad.status_code == 400
    assert bad.json()["error"] == {
        "code": "bad_request",
        "message": "from: 'March' is not a date or an ISO-8601 time (expected e.g. 2026-03-01 or 2026-03-01T09:00:00Z)",
        "details": None,
    }
    assert get(server, "/api/reports/speed", **WINDOW, by="owner").json()["error"]["message"].startswith("by: expected")
    assert get(server, "/api/reports/speed", **WINDOW, currency="EUR").status_code == 400
    no_range = get(server, "/api/reports/speed", to=TO)
    assert no_range.status_code == 422 and no_range.json()["error"]["code"] == "invalid_request"
