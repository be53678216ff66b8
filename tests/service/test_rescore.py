"""Time moves scores, and so does a new definition: ``POST /api/rescore``, the server's periodic re-scoring
(its failures logged and counted), and activating a version over the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from leadgate.service.scorer import PeriodicRescore
from leadgate.store.store import Store
from tests.conftest import EXAMPLES
from tests.service.conftest import Server, ready_store, serving

#: A demo request is worth 100 points, halving every two seconds: any later re-scoring moves the score.
FADING = """
schema: 1
name: fading
version: 1
decay:
  half_life: 2s
engagement:
  - id: demo
    event: demo_requested
    per: once
    points: 100
qualify:
  threshold: 1000
"""


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = ready_store(store_url)
    st.activate(st.push_definition(FADING, author="tests").id, actor="tests")
    yield st
    st.engine.dispose()


def total(server: Server, lead_id: str) -> float:
    found = httpx.get(f"{server.url}/api/leads/{lead_id}", auth=(server.admin_key, "")).json()
    return float(found["score"]["total"])


def demo_request(server: Server, user: str) -> None:
    message = {"userId": user, "event": "demo_requested", "timestamp": datetime.now(UTC).isoformat()}
    assert httpx.post(f"{server.url}/v1/track", json=message, auth=(server.write_key, "")).status_code == 200
    server.settle()


def test_rescoring_over_the_api_moves_scores_as_time_passes(store: Store) -> None:
    with serving(store) as server:
        demo_request(server, "u1")
        fresh = total(server, "u1")
        time.sleep(1.0)
        response = httpx.post(f"{server.url}/api/rescore", auth=(server.admin_key, ""))
        assert response.status_code == 200 and response.json() == {"leads": 1, "new_mqls": []}
        later = total(server, "u1")
        assert 30 < later < fresh <= 100  # decayed by the second that passed
        denied = httpx.post(f"{server.url}/api/rescore", auth=(server.write_key, ""))
        assert denied.status_code == 403


def test_the_server_rescores_everyone_periodically(store: Store) -> None:
    with serving(store, rescore_every=0.3) as server:
        demo_request(server, "u2")
        fresh = total(server, "u2")
        deadline = time.monotonic() + 15
        while server.app.state.rescores.runs < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert total(server, "u2") < fresh  # re-scored by the loop, nobody asked
        status = httpx.get(f"{server.url}/api/status", auth=(server.admin_key, "")).json()
        assert status["rescore"]["runs"] >= 2 and status["rescore"]["failures"] == 0
        assert status["rescore"]["every_seconds"] == 0.3 and status["rescore"]["last_run_at"]
        metrics = httpx.get(f"{server.url}/api/metrics", auth=(server.admin_key, "")).json()
        assert metrics["rescore"]["runs"] >= 2


def test_a_failed_periodic_rescoring_is_logged_counted_and_retried(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rescores = PeriodicRescore(store, 0.05)
    calls: list[None] = []

    def flaky(*_args: object, **_kwargs: object) -> None:
        calls.append(None)
        if len(calls) == 1:
            raise RuntimeError("the store went away")

    monkeypatch.setattr(store, "score", flaky)
    with caplog.at_level(logging.ERROR, logger="leadgate.service"):
        rescores.run_once()
        rescores.run_once()
    state = rescores.to_dict()
    assert (state["runs"], state["failures"]) == (1, 1)
    assert state["last_error"] == "RuntimeError: the store went away"
    (record,) = caplog.records
    assert "periodic re-scoring failed" in record.getMessage() and record.exc_info is not None


def test_activating_a_lower_threshold_over_the_api_makes_an_mql(store: Store) -> None:
    classic = (EXAMPLES / "classic.yaml").read_text()
    store.activate(store.push_definition(classic.replace("version: 1", "version: 2"), author="t").id, actor="t")
    with serving(store) as server:
        batch = [{"type": "identify", "userId": "u3", "traits": {"title": "VP Sales"}}] + [
            {"type": "track", "userId": "u3", "event": name} for name in ("demo_requested", "trial_started")
        ]
        sent = httpx.post(f"{server.url}/v1/batch", json={"batch": batch}, auth=(server.write_key, ""))
        assert sent.status_code == 200 and sent.json()["accepted"] == 3
        server.settle()
        assert total(server, "u3") == 70  # 15 + 25 + 30: below 100
        lower = classic.replace("threshold: 100", "threshold: 60").replace("version: 1", "version: 3")
        pushed = httpx.post(
            f"{server.url}/api/definitions", json={"source": lower, "activate": True}, auth=(server.admin_key, "")
        )
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["new_mqls"] == ["u3"] and pushed.json()["rescored"] == 1
        found = httpx.get(f"{server.url}/api/leads/u3", auth=(server.admin_key, "")).json()
        assert found["stage"] == "mql" and found["score"]["qualified"]
