"""GET /api/leads/{lead_id} shows the lead's latest prediction of each model with its top factors."""

from __future__ import annotations

from datetime import datetime

import httpx

from leadgate.store.predictions import IncomingPrediction
from tests.service.conftest import Server


def test_a_lead_shows_its_latest_predictions_with_their_factors(server: Server) -> None:
    with server.store.session() as s, s.begin():
        server.store.resolve(s, user_id="ann", at=datetime(2026, 10, 1))
    factors = [{"factor": "pricing_3x", "label": "3 pricing visits in 30 days", "weight": 0.9}]
    server.store.record_predictions([
        IncomingPrediction("ann", "sql_model", 0.3, datetime(2026, 10, 2)),
        IncomingPrediction("ann", "sql_model", 0.8, datetime(2026, 10, 9), factors, "abc123"),
    ])  # fmt: skip
    r = httpx.get(f"{server.url}/api/leads/ann", headers={"Authorization": f"Bearer {server.admin_key}"})
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == [{
        "model": "sql_model", "model_version": "abc123", "probability": 0.8, "scored_at": "2026-10-09T00:00:00Z",
        "factors": factors,
    }]  # fmt: skip
