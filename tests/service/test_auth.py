"""Issue 3 §6: every endpoint but health (and the OpenAPI pages) requires a key; write keys only ingest.

Walks the app's own OpenAPI description, so an endpoint added later without a key dependency fails here."""

from __future__ import annotations

import re

import httpx

from tests.service.conftest import Server

OPEN = {"/health"}


def _endpoints(server: Server) -> list[tuple[str, str]]:
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, methods in sorted(paths.items())
        if path not in OPEN
        for method in sorted(methods)
    ]


def test_every_endpoint_but_health_requires_a_key(server: Server) -> None:
    endpoints = _endpoints(server)
    assert {"/v1/batch", "/api/leads", "/api/status", "/api/reports/x", "/api/webhooks"} <= {p for _, p in endpoints}
    assert httpx.get(f"{server.url}/health").status_code == 200
    for method, path in endpoints:
        body = {"batch": []} if path == "/v1/batch" else {}  # a batch may carry its key: shape first
        response = httpx.request(method, server.url + path, json=body)
        assert response.status_code == 401, f"{method} {path} answered {response.status_code} without a key"
        assert response.json()["error"]["code"] == "unauthorized"


def test_a_write_key_can_only_ingest(server: Server) -> None:
    for method, path in _endpoints(server):
        if path.startswith("/api/") and method == "GET":
            response = httpx.request(method, server.url + path, auth=(server.write_key, ""))
            assert response.status_code == 403, f"{method} {path} answered {response.status_code} to a write key"


#: What a write key may call: the Segment API and the native records and imports.
INGEST = {("POST", p) for p in ("/api/leads", "/api/accounts", "/api/events", "/api/imports/x")}


def test_a_write_key_cannot_change_anything_but_ingest(server: Server) -> None:
    changing = [(m, p) for m, p in _endpoints(server) if m in ("POST", "PUT", "PATCH", "DELETE")]
    assert {("POST", "/api/definitions"), ("POST", "/api/rescore"), ("POST", "/api/rejected/x/replay")} <= set(changing)
    for method, path in changing:
        if path.startswith("/v1/") or (method, path) in INGEST:
            continue
        response = httpx.request(method, server.url + path, json={}, auth=(server.write_key, ""))
        assert response.status_code == 403, f"{method} {path} answered {response.status_code} to a write key"
        assert response.json()["error"]["code"] == "forbidden"
    assert server.store.status()["active_definition"]["version"] == "1"  # nothing was changed
