"""The README's main job, live part: ``examples/live_demo.py`` (run by ``make demo``) in a subprocess, on its
own embedded SQLite store, with the real Segment and RudderStack clients and a real webhook receiver."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import EXAMPLES


def test_live_demo_takes_a_lead_from_first_visit_to_a_signed_webhook_and_sql() -> None:
    run = subprocess.run([sys.executable, str(EXAMPLES / "live_demo.py")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "stage mql" in out
    assert "webhook mql.created received (signature valid" in out
    assert "webhook lead.assigned received (signature valid" in out
    assert "BAD SIGNATURE" not in out
    assert "(SLA met)" in out  # printed from the first-touch answer's sla_met
    assert "journey: subscriber → lead → mql → sql" in out
    assert "ken, score" in out and out.rstrip().splitlines()[-2].endswith("mql")
