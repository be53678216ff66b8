"""The real CLI for routing, sales feedback, consent, opportunities, webhooks, timers and erasure, against a
store on SQLite (and PostgreSQL in its suite), with a real webhook receiver on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import standardwebhooks
from click.testing import CliRunner, Result

from leadgate.cli import main
from leadgate.service.receiver import WebhookReceiver
from leadgate.store.store import Store
from tests.conftest import EXAMPLES
from tests.store.lifecycle_helpers import OWN_REASONS, add_lead

ROUTING = EXAMPLES / "routing" / "default.yaml"


def run(db: str, *args: str | Path) -> Result:
    return CliRunner().invoke(main, [*map(str, args), "--database", db], catch_exceptions=False)


def test_routing_feedback_webhooks_opportunities_and_erasure(store_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "routing.yaml"
    bad.write_text("schema: 1\nname: r\nversion: 1\nroutes:\n  - {name: x, team: t, sla: soon}\n")
    failed = run(store_url, "routing", "push", bad, "--author", "ops")
    assert failed.exit_code == 2 and f"{bad}:5:" in failed.output and "'soon' is not a duration" in failed.output
    assert (
        run(store_url, "definitions", "push", EXAMPLES / "classic.yaml", "--author", "ops", "--activate").exit_code == 0
    )
    pushed = run(store_url, "routing", "push", ROUTING, "--author", "ops", "--activate")
    assert pushed.exit_code == 0 and "pushed routing default v1 as #1 (active)" in pushed.output
    assert json.loads(run(store_url, "routing", "show").output)["teams"]["sdr"]["members"] == ["alice", "bob"]

    with WebhookReceiver() as receiver:
        added = run(store_url, "webhooks", "add", receiver.url, "--name", "crm", "--events",
                    "mql.created,lead.stage_changed", "--actor", "ops")  # fmt: skip
        secret = json.loads(added.output)["secret"]
        store = Store(store_url)
        add_lead(store, "ann")
        add_lead(store, "bob")
        store.engine.dispose()
        delivered = run(store_url, "webhooks", "deliver", "--once")
        assert "attempted 4 deliveries; 4 delivered" in delivered.output
        assert sorted(r.type for r in receiver.received) == ["lead.stage_changed"] * 2 + ["mql.created"] * 2
        for item in receiver.received:
            standardwebhooks.Webhook(secret).verify(item.body, item.headers)
        log = json.loads(run(store_url, "webhooks", "log", "--lead", "ann").output)
        assert [d["status"] for d in log] == ["delivered", "delivered"] and log[0]["log"][0]["status"] == 204
        replayed = run(store_url, "webhooks", "replay", "--lead", "ann", "--actor", "ops")
        assert "queued 2 deliveries" in replayed.output
        run(store_url, "webhooks", "deliver", "--once")
        ann = [r.webhook_id for r in receiver.received if r.lead_id == "ann"]
        assert len(ann) == 4 and ann[:2] == ann[2:]  # the same ids again, in the same order

    backdated = run(store_url, "sales", "touch", "ann", "--actor", "carol", "--at", "2020-01-01T00:00:00Z")
    assert backdated.exit_code == 2 and "is before lead 'ann' was assigned" in backdated.output
    touched = json.loads(run(store_url, "sales", "touch", "ann", "--actor", "carol", "--channel", "call").output)
    assert touched["speed_to_lead_seconds"] >= 0 and touched["sla_met"] is True
    assert json.loads(run(store_url, "sales", "accept", "ann", "--actor", "carol").output)["stage"] == "sql"
    refused = run(store_url, "sales", "reject", "bob", "--actor", "carol", "--reason", "because")
    assert refused.exit_code == 2 and "'because' is not a reject reason" in refused.output
    assert "Traceback" not in refused.output
    recycled = json.loads(run(store_url, "sales", "recycle", "bob", "--actor", "carol", "--reason", "not_now").output)
    assert recycled["stage"] == "recycled"
    shown = json.loads(run(store_url, "sales", "show", "bob").output)
    assert [c["to"] for c in shown["stage_changes"]] == ["mql", "recycled"]
    assert run(store_url, "sales", "accept", "nobody", "--actor", "x").exit_code == 2

    opps = tmp_path / "opps.csv"
    opps.write_text("id,lead_id,amount,status\nopp-1,ann,1200,won\nopp-2,ann,abc,open\n")
    imported = run(store_url, "opportunities", "import", opps, "--actor", "ops")
    assert imported.exit_code == 2 and "stored 1 opportunities" in imported.output
    assert f"{opps}:row 3: amount:" in imported.output
    assert json.loads(run(store_url, "opportunities", "show", "opp-1").output)["status"] == "won"
    assert json.loads(run(store_url, "sales", "show", "ann").output)["stage"] == "customer"

    mailer = run(store_url, "webhooks", "add", "http://127.0.0.1:9/mail", "--name", "mailer", "--require-consent",
                 "email", "--ignore-consent", "--actor", "ops")  # fmt: skip
    assert json.loads(mailer.output)["require_consent"] == ["email"]
    assert json.loads(mailer.output)["respect_consent"] is False
    bad = run(store_url, "webhooks", "add", "http://x.test", "--name", "x", "--require-consent", "fax", "--actor", "o")
    assert bad.exit_code == 2 and "found fax" in bad.output
    consent = json.loads(run(store_url, "consent", "set", "bob", "--sales-contact", "no", "--actor", "dpo").output)
    assert consent["sales_contact"] is False
    assert "breached 0 SLA(s); recycled 0 MQL(s)" in run(store_url, "timers", "run").output
    erased = json.loads(run(store_url, "erase", "bob", "--actor", "dpo", "--yes").output)
    assert erased["removed"]["leads"] == 1
    assert run(store_url, "sales", "show", "bob").exit_code == 2


def test_reason_codes_are_the_routing_files(store_url: str, tmp_path: Path) -> None:
    path = tmp_path / "own.yaml"
    path.write_text(OWN_REASONS)
    run(store_url, "definitions", "push", EXAMPLES / "classic.yaml", "--author", "ops", "--activate")
    assert run(store_url, "routing", "push", path, "--author", "ops", "--activate").exit_code == 0
    store = Store(store_url)
    add_lead(store, "rae")
    add_lead(store, "sam")
    store.engine.dispose()
    refused = run(store_url, "sales", "reject", "rae", "--actor", "alice", "--reason", "no_budget")
    assert refused.exit_code == 2
    assert "'no_budget' is not a reject reason; expected one of wrong_persona" in refused.output
    rejected = run(store_url, "sales", "reject", "rae", "--actor", "alice", "--reason", "wrong_persona")
    assert rejected.exit_code == 0 and json.loads(rejected.output)["stage"] == "disqualified"
    assert run(store_url, "sales", "recycle", "sam", "--actor", "alice", "--reason", "not_now").exit_code == 2
    recycled = run(store_url, "sales", "recycle", "sam", "--actor", "alice", "--reason", "next_quarter")
    assert json.loads(recycled.output)["stage"] == "recycled"
    moved = run(store_url, "sales", "move", "sam", "--actor", "ops", "--to", "lead", "--reason", "whim")
    assert moved.exit_code == 2 and "'whim' is not a move reason; expected one of data_fix" in moved.output
    fixed = run(store_url, "sales", "move", "sam", "--actor", "ops", "--to", "lead", "--reason", "data_fix")
    assert fixed.exit_code == 0 and json.loads(fixed.output)["stage"] == "lead"
