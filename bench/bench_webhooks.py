"""Webhook benchmark: from the qualifying event to a signed webhook received, over loopback.

    python bench/bench_webhooks.py [--leads 300] [--rate 20] [--fault-leads 100] [--down 5]

The server runs as ``leadgate serve`` in its own process on an embedded SQLite store with the classic
definition and the example routing file; a receiver in this process checks every signature with the
``standardwebhooks`` package.

1. Latency: ``--leads`` leads are brought to 80 points (identify, trial, webinar, case study, pricing x3),
   then each gets its qualifying event (a demo request, +25) at ``--rate`` leads per second; the time from
   sending that event to its ``mql.created`` webhook arriving signed, p50 / p99 / max (target p99 ≤ 1 s).
2. Fault run: the receiver goes down (connections refused) while ``--fault-leads`` more leads are warmed up
   (they become leads: a ``lead.stage_changed``) and then, in later batches, qualify (``lead.stage_changed``,
   ``mql.created``, ``lead.assigned``), so each lead's webhooks come from two transactions; it stays down
   ``--down`` seconds, comes back on the same port.  Every delivery the store holds must arrive exactly
   once per webhook-id, and each lead's webhooks in the order they were written, across transactions.
Results go to bench/results/webhooks.{md,json}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import standardwebhooks

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from live_server import serving  # noqa: E402

EXAMPLES = ROOT / "examples"


def warmup_messages(user: str) -> list[dict[str, Any]]:
    """80 points: senior title 15, trial 30, webinar 10, case study 10, pricing three times 15."""
    msgs: list[dict[str, Any]] = [
        {"type": "identify", "userId": user, "messageId": f"{user}-id",
         "traits": {"email": f"{user}@bench-corp.io", "title": "VP Engineering"}},
        {"type": "track", "userId": user, "event": "trial_started", "messageId": f"{user}-trial"},
        {"type": "track", "userId": user, "event": "webinar_attended", "messageId": f"{user}-webinar"},
        {"type": "track", "userId": user, "event": "content_downloaded", "messageId": f"{user}-case",
         "properties": {"asset_type": "case_study"}},
    ]  # fmt: skip
    msgs += [
        {"type": "page", "userId": user, "messageId": f"{user}-p{i}", "properties": {"path": "/pricing"}}
        for i in range(3)
    ]
    return msgs


def qualifying(user: str) -> dict[str, Any]:
    return {"type": "track", "userId": user, "event": "demo_requested", "messageId": f"{user}-demo"}


class Receiver:
    """Records arrival time per webhook; checks each signature with the standardwebhooks package."""

    def __init__(self, secret: str):
        from leadgate.service.receiver import Received, WebhookReceiver

        self.verifier = standardwebhooks.Webhook(secret)
        self.bad = 0
        self.arrivals: list[tuple[float, Received]] = []
        self.lock = threading.Lock()

        def on(item: Received) -> None:
            at = time.perf_counter()
            try:
                self.verifier.verify(item.body, item.headers)
            except standardwebhooks.WebhookVerificationError:
                self.bad += 1
            with self.lock:
                self.arrivals.append((at, item))

        self.http = WebhookReceiver(on_receive=on)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scorer", choices=["process", "thread"], default="process", help="leadgate serve --scorer")
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="qualifying events per second")
    parser.add_argument("--fault-leads", type=int, default=100)
    parser.add_argument("--down", type=float, default=5.0, help="seconds the receiver stays down")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from leadgate.store import routing, subscriptions
    from leadgate.store.store import Store

    work = Path(tempfile.mkdtemp(prefix="leadgate-webhooks-"))
    url = f"sqlite:///{work / 'live.db'}"
    store = Store(url)
    store.upgrade()
    version = store.push_definition((EXAMPLES / "classic.yaml").read_text(), author="bench")
    store.activate(version.id, actor="bench")
    routing.push_file(store, (EXAMPLES / "routing" / "default.yaml").read_text(), author="bench", activate_it=True)
    write_key, admin_key = store.create_key("bench", "write"), store.create_key("bench", "admin")
    secret = standardwebhooks_secret()
    receiver = Receiver(secret)
    receiver.http.start()
    subscriptions.add(store, name="bench", url=receiver.http.url, secret=secret, actor="bench",
                      event_types=["mql.created", "lead.assigned", "lead.stage_changed"])  # fmt: skip
    stack = contextlib.ExitStack()
    base = stack.enter_context(serving(url, args.scorer, work / "server.log"))
    client = httpx.Client(base_url=base, auth=(write_key, ""), timeout=60)
    admin = httpx.Client(base_url=base, auth=(admin_key, ""), timeout=60)

    def send(batch: list[dict[str, Any]]) -> None:
        client.post("/v1/batch", json={"batch": batch}).raise_for_status()

    def settle() -> None:
        while admin.get("/api/metrics").json()["pending"]:
            time.sleep(0.05)

    try:
        # 1. latency
        users = [f"lat-{i:05d}" for i in range(args.leads)]
        for i in range(0, len(users), 50):
            send([m for u in users[i : i + 50] for m in warmup_messages(u)])
        settle()
        undelivered(store, wait=60)  # the warm-up's own webhooks delivered: latency is measured behind no backlog
        print(f"latency: {args.leads} leads qualify at {args.rate:g}/s", flush=True)
        sent_at: dict[str, float] = {}
        t0 = time.perf_counter()
        for n, user in enumerate(users):
            sent_at[user] = time.perf_counter()
            send([qualifying(user)])
            wait = t0 + (n + 1) / args.rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        deadline = time.monotonic() + 30
        arrived: dict[str, float] = {}
        while time.monotonic() < deadline and len(arrived) < len(users):
            with receiver.lock:
                arrived = {i.lead_id: at for at, i in receiver.arrivals if i.type == "mql.created" and i.lead_id}
            time.sleep(0.05)
        latencies = [arrived[u] - sent_at[u] for u in users if u in arrived]
        latency = {
            "leads": len(users),
            "webhooks_received": len(latencies),
            "p50_ms": 1000 * pct(latencies, 0.5),
            "p90_ms": 1000 * pct(latencies, 0.9),
            "p99_ms": 1000 * pct(latencies, 0.99),
            "max_ms": 1000 * max(latencies, default=float("nan")),
        }
        print(f"  p50 {latency['p50_ms']:.0f} ms, p99 {latency['p99_ms']:.0f} ms", flush=True)

        # 2. fault run
        time.sleep(1.0)
        with receiver.lock:
            before = len(receiver.arrivals)
        receiver.http.stop()
        fault_users = [f"flt-{i:05d}" for i in range(args.fault_leads)]
        print(f"fault: receiver down {args.down:g} s while {len(fault_users)} leads warm up, then qualify", flush=True)
        down_at = time.perf_counter()
        for i in range(0, len(fault_users), 25):  # first transaction per lead: it becomes a lead
            send([m for u in fault_users[i : i + 25] for m in warmup_messages(u)])
        settle()
        for i in range(0, len(fault_users), 25):  # a later one: it qualifies
            send([qualifying(u) for u in fault_users[i : i + 25]])
        settle()
        time.sleep(max(0.0, args.down - (time.perf_counter() - down_at)))
        receiver.http.start()
        up_at = time.perf_counter()
        written = written_deliveries(store, fault_users)
        expected = {lead: [event_id for event_id, _ in rows] for lead, rows in written.items()}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with receiver.lock:
                got = [i for _, i in receiver.arrivals[before:]]
            if len({i.webhook_id for i in got}) >= sum(len(v) for v in expected.values()):
                break
            time.sleep(0.05)
        drained = time.perf_counter() - up_at
        time.sleep(2.0)  # duplicates, if any, would arrive now
        with receiver.lock:
            got = [i for _, i in receiver.arrivals[before:]]
        ids = [i.webhook_id for i in got]
        by_lead: dict[str, list[str]] = defaultdict(list)
        for item in got:
            if item.lead_id:
                by_lead[item.lead_id].append(item.webhook_id)
        fault = {
            "leads": len(fault_users),
            "down_seconds": round(up_at - down_at, 2),
            "deliveries_written": sum(len(v) for v in expected.values()),
            "received": len(ids),
            "distinct_ids": len(set(ids)),
            "duplicates": len(ids) - len(set(ids)),
            "missing": len({i for v in expected.values() for i in v} - set(ids)),
            "in_order_per_lead": all(by_lead.get(lead, []) == want for lead, want in expected.items()),
            "leads_with_two_transactions": sum(len({at for _, at in rows}) >= 2 for rows in written.values()),
            "seconds_to_drain_after_up": round(drained, 2),
        }
        print(f"  {fault}", flush=True)
    finally:
        stack.close()
        receiver.http.stop()
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "setup": "SQLite (WAL); `leadgate serve` in its own process; receiver in the driver; one loopback",
        "args": vars(args),
        "latency": latency,
        "fault": fault,
        "bad_signatures": receiver.bad,
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "webhooks.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "webhooks.md").write_text(render(report))
    print((out / "webhooks.md").read_text())


def standardwebhooks_secret() -> str:
    from leadgate.store.outbox import new_secret

    return new_secret()


def undelivered(store: Any, wait: float) -> int:
    """Deliveries not yet delivered, waiting up to ``wait`` seconds for there to be none."""
    from sqlalchemy import func, select

    from leadgate.store.models_lifecycle import WebhookDelivery

    deadline = time.monotonic() + wait
    while True:
        with store.reader() as s:
            left = int(s.scalar(select(func.count()).where(WebhookDelivery.status == "pending")) or 0)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def written_deliveries(store: Any, leads: list[str]) -> dict[str, list[tuple[str, datetime]]]:
    """Per lead, the webhook ids the store holds for it, in the order they were written, with the time of
    the transaction that wrote each (one transaction, one time)."""
    from sqlalchemy import select

    from leadgate.store.models_lifecycle import OutboxEvent, WebhookDelivery

    with store.session() as s:
        rows = s.execute(
            select(WebhookDelivery.lead_id, OutboxEvent.event_id, OutboxEvent.created_at)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_id)
            .where(WebhookDelivery.lead_id.in_(leads))
            .order_by(WebhookDelivery.id)
        ).all()
    out: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for lead, event_id, created_at in rows:
        out[lead].append((event_id, created_at))
    return dict(out)


def render(r: dict[str, Any]) -> str:
    lat, f = r["latency"], r["fault"]
    return "\n".join([
        "# Webhook benchmark", "",
        f"Run {r['when']} on {r['machine']} by `python bench/bench_webhooks.py "
        f"--leads {r['args']['leads']} --rate {r['args']['rate']:g} --fault-leads {r['args']['fault_leads']} "
        f"--down {r['args']['down']:g}`; {r['setup']}.", "",
        "| measure | value | target |", "|---|---:|---:|",
        f"| qualifying event → signed `mql.created` received, p50 | {lat['p50_ms']:.0f} ms | |",
        f"| … p90 | {lat['p90_ms']:.0f} ms | |",
        f"| … p99 | {lat['p99_ms']:.0f} ms | ≤ 1,000 ms |",
        f"| … max | {lat['max_ms']:.0f} ms | |",
        f"| webhooks received / leads qualified | {lat['webhooks_received']} / {lat['leads']} | equal |",
        f"| signatures that failed `standardwebhooks` verification | {r['bad_signatures']} | 0 |",
        f"| fault run: receiver down for | {f['down_seconds']:.1f} s | |",
        f"| … deliveries written / received / distinct ids | {f['deliveries_written']} / {f['received']} / "
        f"{f['distinct_ids']} | all equal |",
        f"| … duplicates / missing | {f['duplicates']} / {f['missing']} | 0 / 0 |",
        f"| … leads whose webhooks came from two transactions | {f['leads_with_two_transactions']} / {f['leads']} "
        "| all |",
        f"| … in order per lead | {'yes' if f['in_order_per_lead'] else 'NO'} | yes |",
        f"| … seconds from receiver up to all delivered | {f['seconds_to_drain_after_up']:.1f} s | |",
        "",
    ])  # fmt: skip


if __name__ == "__main__":
    main()
