"""The live service end to end, on the embedded SQLite store (``make demo`` runs it after batch scoring):

    first visit → identified → MQL → assigned owner with an SLA → signed webhook received → first touch → SQL

It starts the real HTTP server on a free loopback port, a local webhook receiver, and sends events with the
real ``segment-analytics-python`` client, then prints the lead's journey; a second lead arrives through the
real ``rudder-sdk-python`` client (gzip bodies, no write key in the body) and qualifies the same way.
Everything lives in a temporary folder; nothing is left behind.  Run it with ``python examples/live_demo.py``.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rudderstack.analytics import Client as RudderClient
from segment.analytics import Client

from leadgate.service.app import create_app
from leadgate.service.receiver import Received, WebhookReceiver
from leadgate.store import routing, subscriptions
from leadgate.store.store import Store

HERE = Path(__file__).resolve().parent
START = time.perf_counter()


def say(text: str) -> None:
    print(f"  [{time.perf_counter() - START:6.2f}s] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(store: Store) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


def lead_state(url: str, key: str, lead_id: str) -> dict[str, Any]:
    response = httpx.get(f"{url}/api/leads/{lead_id}", auth=(key, ""))
    return dict(response.json()) if response.status_code == 200 else {}


def wait_for_score(url: str, key: str, lead_id: str, check: Any, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = lead_state(url, key, lead_id)
        if state and check(state):
            return state
        time.sleep(0.02)
    raise SystemExit(f"demo: timed out waiting for {lead_id}; last state: {state}")


def main() -> int:
    print("leadgate live demo: one lead from first visit to a signed webhook (embedded SQLite store)")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'leadgate.db'}")
        store.upgrade()
        version = store.push_definition((HERE / "classic.yaml").read_text(), author="demo")
        store.activate(version.id, actor="demo")
        store.score(None)  # compiles the definition once (the server shares this store)
        routing.push_file(store, (HERE / "routing" / "default.yaml").read_text(), author="demo", activate_it=True)
        write_key = store.create_key("website", "write")
        admin_key = store.create_key("ops", "admin")
        sales_key = store.create_key("crm", "sales")
        say("store ready: classic definition (MQL at 100 points) and routing (demo requests: 5-minute SLA)")

        arrived = threading.Event()
        hooks: list[Received] = []

        def on_hook(item: Received) -> None:
            hooks.append(item)
            if item.type == "lead.assigned":
                arrived.set()

        receiver = WebhookReceiver(on_receive=on_hook).start()
        sub = subscriptions.add(
            store,
            name="crm",
            url=receiver.url,
            event_types=["mql.created", "lead.assigned"],
            actor="demo",
        )
        receiver.secret = sub["secret"]
        server, thread, url = serve(store)
        say(f"server on {url}; webhook receiver on {receiver.url}")

        client = Client(write_key, host=url, sync_mode=True)
        now = datetime.now(UTC)
        ad = "https://acme.test/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring_launch"
        client.page(
            anonymous_id="visitor-42",
            name="Pricing",
            properties={"path": "/pricing", "url": ad},
            context={"campaign": {"source": "google", "medium": "cpc", "name": "spring_launch"}},
            timestamp=now - timedelta(days=2),
        )
        client.page(anonymous_id="visitor-42", properties={"path": "/pricing/teams"}, timestamp=now - timedelta(days=1))
        say("first visit: anonymous visitor-42 from a Google ad (spring_launch) looks at pricing, twice")
        client.identify(
            user_id="maria",
            anonymous_id="visitor-42",
            traits={"email": "maria@northwind-demo.io", "title": "VP Operations", "first_name": "Maria"},
        )
        client.group(user_id="maria", group_id="northwind", traits={"name": "Northwind", "employees": 120})
        state = wait_for_score(url, admin_key, "maria", lambda s: s.get("score") and s["score"]["fit"] >= 25)
        say(
            f"identified: maria@northwind-demo.io, VP Operations at Northwind (120 people); "
            f"score {state['score']['total']:.0f}"
        )
        client.track(user_id="maria", event="trial_started")
        client.track(user_id="maria", event="content_downloaded", properties={"asset_type": "case_study"})
        client.page(user_id="maria", properties={"path": "/pricing"})
        state = wait_for_score(url, admin_key, "maria", lambda s: s["score"]["total"] >= 80)
        total = state["score"]["total"]
        say(f"starts a trial, reads a case study, back on pricing: score {total:.0f}, {state['stage']}")
        sent = time.perf_counter()
        client.track(user_id="maria", event="demo_requested")
        state = wait_for_score(url, admin_key, "maria", lambda s: s["stage"] == "mql")
        say(f"requests a demo: score {state['score']['total']:.0f}, stage {state['stage']}")

        if not arrived.wait(10):
            raise SystemExit("demo: no webhook arrived within 10 s")
        latency = time.perf_counter() - sent
        for item in hooks:
            mark = "signature valid" if item.valid else "BAD SIGNATURE"
            say(f"webhook {item.type} received ({mark}, webhook-id {item.webhook_id[:16]}...)")
        data = hooks[-1].payload["data"]
        touch = data["first_touch"]
        say(
            f"  owner {data['owner']} ({data['team']}, route {data['route']}), SLA due {data['sla_due_at'][11:19]} UTC;"
            f" first touch {touch['channel']} / {touch['source']} / {touch['campaign']}"
        )
        pages = ", ".join(f"{p} x{n}" for p, n in data["engagement"]["pages"].items())
        say(f"  breakdown: {', '.join(sorted(k for k, c in data['score']['contributions'].items() if c['count']))}")
        say(f"  pages: {pages}")
        say(f"demo request to signed webhook in {latency * 1000:.0f} ms")

        touched = httpx.post(f"{url}/api/leads/maria/first-touch", json={"channel": "call", "user": "carol"},
                             auth=(sales_key, "")).json()  # fmt: skip
        verdict = {True: "SLA met", False: "SLA missed", None: "no SLA"}[touched["sla_met"]]
        say(f"carol calls: speed to lead {touched['speed_to_lead_seconds']:.1f} s ({verdict})")
        accepted = httpx.post(f"{url}/api/leads/maria/accept", json={"user": "carol"}, auth=(sales_key, "")).json()
        say(f"carol accepts the MQL: stage {accepted['stage']}")
        journey = httpx.get(f"{url}/api/leads/maria/lifecycle", auth=(sales_key, "")).json()
        path = " → ".join([journey["stage_changes"][0]["from"], *(c["to"] for c in journey["stage_changes"])])
        say(f"journey: {path}")

        rudder = RudderClient(write_key, host=url, sync_mode=True)  # RudderStack's SDK, unmodified
        rudder.identify(user_id="ken", traits={"email": "ken@contoso-demo.io", "title": "Head of IT"})
        rudder.group(user_id="ken", group_id="contoso", traits={"name": "Contoso", "employees": 80})
        for event in ("trial_started", "demo_requested", "webinar_attended", "newsletter_subscribed"):
            rudder.track(user_id="ken", event=event)
        rudder.track(user_id="ken", event="content_downloaded", properties={"asset_type": "case_study"})
        state = wait_for_score(url, admin_key, "ken", lambda s: s["stage"] == "mql")
        say(f"a second lead through the RudderStack SDK: ken, score {state['score']['total']:.0f}, {state['stage']}")

        server.should_exit = True
        thread.join(10)
        receiver.stop()
        store.engine.dispose()
    print(f"done in {time.perf_counter() - START:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
