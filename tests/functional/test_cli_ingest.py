"""Functional: the real `leadgate import`, `rejected` and `status` commands on the sample exports, against
SQLite (and PostgreSQL in its suite)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
ROOT = Path(__file__).resolve().parents[2]


def leadgate(db: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadgate.cli", *map(str, args), "--database", db],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_import_list_fix_and_replay(tmp_path: Path, store_url: str) -> None:
    db = store_url
    assert leadgate(db, "definitions", "push", EXAMPLES / "classic.yaml", "--author", "t", "--activate").returncode == 0
    leads = leadgate(db, "import", "leads", FIXTURES / "hubspot_contacts.csv", "--mapping",
                     EXAMPLES / "mappings" / "hubspot_contacts.yaml")  # fmt: skip
    assert leads.returncode == 0, leads.stderr
    assert "7 of 10 rows imported as leads, 3 rejected" in leads.stdout
    assert "hubspot_contacts.csv:row 5: Number of Employees: expected a number, found 'about 200'" in leads.stderr
    events = leadgate(db, "import", "events", FIXTURES / "events.jsonl", "--json")
    report = json.loads(events.stdout)
    assert report["new_mqls"] == ["51234009"] and report["rejected"] == 3
    listed = json.loads(leadgate(db, "rejected", "list", "--source", "import:leads", "--json").stdout)
    row5 = next(r for r in listed if r["payload"]["row"] == 5)
    still = leadgate(db, "rejected", "replay", str(row5["id"]))  # 'about 200' is still not a number
    assert still.returncode == 2 and "Number of Employees: expected a number" in still.stderr
    fixed = tmp_path / "fixed.json"
    record = row5["payload"]["record"]
    fixed.write_text(json.dumps({**record, "account": {**record["account"], "traits": {"employees": 200}}}))
    assert leadgate(db, "rejected", "replay", str(row5["id"]), "--corrected", fixed).returncode == 0
    status = leadgate(db, "status")
    assert re.search(r"mqls\s+1\n", status.stdout) and re.search(r"rejected pending\s+5\n", status.stdout)


def test_bad_mapping_and_bad_replay_exit_2_without_traceback(tmp_path: Path, store_url: str) -> None:
    db = store_url
    mapping = tmp_path / "m.yaml"
    mapping.write_text("kind: leads\ncolumns: {Email: emial}\n")
    bad = leadgate(db, "import", "leads", FIXTURES / "hubspot_contacts.csv", "--mapping", mapping)
    assert bad.returncode == 2 and "target 'emial' is not one of" in bad.stderr and "Traceback" not in bad.stderr
    leadgate(db, "import", "events", FIXTURES / "events.jsonl")
    listed = json.loads(leadgate(db, "rejected", "list", "--json").stdout)
    missing_event = next(r for r in listed if r["payload"].get("row") == 11)
    replay = leadgate(db, "rejected", "replay", str(missing_event["id"]))
    assert replay.returncode == 2 and "event: Field required" in replay.stderr
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps({**missing_event["payload"]["record"], "event": "page_view"}))
    assert leadgate(db, "rejected", "replay", str(missing_event["id"]), "--corrected", fixed).returncode == 0


def test_every_service_command_is_documented() -> None:
    docs = (ROOT / "docs" / "service.md").read_text()
    from leadgate.cli_ingest import COMMANDS as INGEST
    from leadgate.cli_service import COMMANDS

    for command in [*COMMANDS, *INGEST]:
        assert f"leadgate {command.name}" in docs
        for sub in getattr(command, "commands", {}):
            assert f"{command.name} {sub}" in docs, f"leadgate {command.name} {sub}"
