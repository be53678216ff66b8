"""Report speed: every funnel report on synthetic lifecycle rows, against a plain COUNT over stage_changes.

    python bench/bench_reports.py [--leads 100000] [--database URL] [--repeat 3]

Writes a fresh store (a temporary SQLite file unless ``--database`` names an empty database) with
``--leads`` leads over six months: known and anonymous leads, first touches, stage changes (engaged,
MQL, accepted, recycled, reactivated, disqualified, opportunity, customer, merge rows), assignments with
SLAs and touches, opportunities and scores with disqualify reasons (seed 7, so every run writes the same
rows).  Then times each report (best of ``--repeat``) over the six months and over one month, and the
baseline ``SELECT COUNT(*) FROM stage_changes`` in the same process; ratios are report ÷ baseline.
Results go to bench/results/reports.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from leadgate.reports import Window, funnel, reasons, speed  # noqa: E402
from leadgate.store.models import DefinitionVersion, Lead, Score, StageChange  # noqa: E402
from leadgate.store.models_lifecycle import Assignment, LeadAttribution, Opportunity  # noqa: E402
from leadgate.store.store import Store, to_micros  # noqa: E402

START = datetime(2026, 1, 1)
DAYS = 181
CHANNELS = ["paid_search", "organic_search", "paid_social", "email", "referral", "direct", "display"]
SOURCES = ["google", "linkedin", "newsletter", "partner", "bing", None]
CAMPAIGNS = [f"campaign_{i}" for i in range(40)] + [None] * 10
REJECT = ["not_a_fit", "no_budget", "competitor", "student", "spam"]
RECYCLE = ["not_now", "no_response", "nurture", "timing"]
DISQUALIFY = ["student", "competitor", "free_mail", "spam"]


def generate(leads: int, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """Rows for every lifecycle table, keyed by table name (ids of stage changes assigned here)."""
    rng = random.Random(seed)
    rows: dict[str, list[dict[str, Any]]] = {
        "leads": [],
        "lead_attribution": [],
        "stage_changes": [],
        "assignments": [],
        "opportunities": [],
        "scores": [],
    }
    sc_id = 0

    def move(
        lead: str, to: str, at: datetime, cause: str, reason: str, version: int, mql_type: str | None = None
    ) -> int:
        nonlocal sc_id
        sc_id += 1
        rows["stage_changes"].append(
            {"id": sc_id, "lead_id": lead, "from_stage": None, "to_stage": to, "at": at, "reason": reason,
             "actor": "bench", "definition_version_id": version, "details": {}, "cause": cause,
             "mql_type": mql_type, "mql_basis": None, "mql_motion": None, "score": None}
        )  # fmt: skip
        return sc_id

    def assign(lead: str, at: datetime, mql: int) -> None:
        sla = rng.choice([300.0, 14400.0, 86400.0, None])
        touched = at + timedelta(seconds=rng.expovariate(1 / 7200)) if rng.random() < 0.8 else None
        rows["assignments"].append(
            {"lead_id": lead, "stage_change_id": mql, "routing_version_id": None, "route": "default",
             "team": "sdr", "owner": rng.choice(["alice", "bob", "carol"]), "method": "round_robin",
             "assigned_at": at, "sla_seconds": sla, "sla_due_at": None if sla is None else at + timedelta(seconds=sla),
             "first_touch_at": touched, "first_touch_by": None, "first_touch_channel": None,
             "speed_to_lead_seconds": None if touched is None else (touched - at).total_seconds(),
             "breached_at": None, "status": "touched" if touched else "open", "closed_at": None,
             "closed_reason": None}
        )  # fmt: skip

    for i in range(leads):
        lead = f"L{i:07d}"
        created = START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        known = rng.random() < 0.9
        merged = known and rng.random() < 0.02 and i > 0
        rows["leads"].append(
            {"id": lead, "email": None, "email_normalized": None, "email_domain": None, "account_id": None,
             "traits": {}, "known": known, "stage": "subscriber", "merged_into": f"L{i - 1:07d}" if merged else None,
             "created_at": created, "created_us": to_micros(created), "updated_at": created}
        )  # fmt: skip
        if rng.random() < 0.8:
            rows["lead_attribution"].append(
                {"lead_id": lead, "channel": rng.choice(CHANNELS), "source": rng.choice(SOURCES),
                 "medium": None, "campaign": rng.choice(CAMPAIGNS), "content": None, "term": None,
                 "referrer": None, "landing_page": "/", "first_seen_at": created, "updated_at": created}
            )  # fmt: skip
        version = 1 if created < START + timedelta(days=90) else 2
        if rng.random() < 0.3:
            reasons_ = rng.sample(DISQUALIFY, rng.choice([0, 0, 1, 2]))
            rows["scores"].append(
                {"lead_id": lead, "definition_version_id": version, "as_of": created, "fit": 0.0, "engagement": 0.0,
                 "total": 0.0, "qualified": False, "grade": "D", "level": 1,
                 "explanation": {"disqualify_reasons": reasons_}, "updated_at": created}
            )  # fmt: skip
        if not known:
            continue
        at = created + timedelta(hours=rng.expovariate(1 / 24))
        if rng.random() < 0.6:
            move(lead, "lead", at, "score", "engaged", version)
        if rng.random() >= 0.15:
            continue
        at += timedelta(hours=rng.expovariate(1 / 72))
        mql = move(lead, "mql", at, "score", "qualified:score", version, "new")
        assign(lead, at, mql)
        for episode in range(3):
            at += timedelta(hours=rng.expovariate(1 / 48))
            fate = rng.random()
            if fate < 0.2 and episode < 2:
                move(lead, "recycled", at, rng.choice(["feedback", "timer"]), rng.choice(RECYCLE), version)
                if rng.random() < 0.4:
                    at += timedelta(days=rng.expovariate(1 / 20))
                    mql = move(lead, "mql", at, "score", "qualified:score", version, "reactivated")
                    assign(lead, at, mql)
                    continue
            elif fate < 0.3:
                move(lead, "disqualified", at, "feedback", rng.choice(REJECT), version)
            elif fate < 0.7:
                move(lead, "sql", at, "feedback", "accepted", version)
                if rng.random() < 0.4:
                    at += timedelta(days=rng.expovariate(1 / 10))
                    move(lead, "opportunity", at, "opportunity", "opportunity_open", version)
                    won = rng.random() < 0.3
                    rows["opportunities"].append(
                        {"id": f"O{len(rows['opportunities'])}", "name": None, "lead_id": lead, "account_id": None,
                         "amount": round(rng.uniform(1000, 50000), 2), "currency": "USD", "stage": "x",
                         "status": "won" if won else rng.choice(["open", "lost"]), "close_date": None,
                         "lost_reason": None, "source": "api", "created_at": at, "updated_at": at}
                    )  # fmt: skip
                    if won:
                        move(lead, "customer", at + timedelta(days=30), "opportunity", "opportunity_won", version)
            if rng.random() < 0.02:
                move(lead, "mql", at, "merge", "merged", version)
            break
    return rows


def load(store: Store, rows: dict[str, list[dict[str, Any]]]) -> None:
    tables = {
        "leads": Lead, "lead_attribution": LeadAttribution, "stage_changes": StageChange,
        "assignments": Assignment, "opportunities": Opportunity, "scores": Score,
    }  # fmt: skip
    with store.engine.begin() as conn:
        for version in (1, 2):
            conn.execute(
                insert(DefinitionVersion.__table__).values(
                    id=version, name="bench", version=str(version), source="", sha256="0" * 64, author="bench",
                    created_at=START, active=version == 2,
                )
            )  # fmt: skip
        for name in ("leads", "lead_attribution", "stage_changes", "assignments", "opportunities", "scores"):
            table = tables[name].__table__  # type: ignore[attr-defined]
            data = rows[name]
            for i in range(0, len(data), 20_000):
                conn.execute(insert(table), data[i : i + 20_000])
    if store.dialect == "postgresql":  # as autovacuum would soon; SQLite stores get no statistics unless asked
        with store.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


def best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--database", default=None, help="an EMPTY database (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results", help="directory for reports.{md,json}")
    args = parser.parse_args()

    load_before = os.getloadavg()
    tmp = None
    if args.database is None:
        tmp = tempfile.TemporaryDirectory()
        args.database = f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    store = Store(args.database)
    store.upgrade()
    t0 = time.perf_counter()
    rows = generate(args.leads)
    load(store, rows)
    load_seconds = time.perf_counter() - t0
    counts = {name: len(data) for name, data in rows.items()}
    print(f"loaded {counts} in {load_seconds:.1f} s", file=sys.stderr)

    def baseline() -> int:
        with store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(StageChange.__table__)).scalar_one())

    base = best(baseline, max(5, args.repeat))
    half_year = Window.parse("2026-01-01", "2026-06-30", "2026-09-01")
    month = Window.parse("2026-03-01", "2026-03-31", "2026-09-01")
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("funnel, 6 months", lambda: funnel(store, half_year)),
        ("funnel, 6 months, by week", lambda: funnel(store, half_year, "week")),
        ("funnel, 6 months, by channel", lambda: funnel(store, half_year, "channel")),
        ("funnel, 6 months, by definition_version", lambda: funnel(store, half_year, "definition_version")),
        ("funnel, 1 month, by campaign", lambda: funnel(store, month, "campaign")),
        ("speed, 6 months, by week", lambda: speed(store, half_year, "week")),
        ("speed, 1 month", lambda: speed(store, month)),
        ("reasons, 6 months, by channel", lambda: reasons(store, half_year, "channel")),
        ("reasons, 1 month", lambda: reasons(store, month)),
    ]
    results = []
    for name, fn in cases:
        seconds = best(fn, args.repeat)
        results.append({"report": name, "seconds": round(seconds, 4), "ratio": round(seconds / base, 1)})
        print(f"{name:45s} {seconds:8.3f} s  {seconds / base:8.1f}x", file=sys.stderr)
    total = funnel(store, half_year).total[0]
    load_after = os.getloadavg()
    server = store.dialect
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            server += " " + str(conn.execute(text("SHOW server_version")).scalar_one())
    else:
        server += " " + sqlite3.sqlite_version
    report = {
        "leads": args.leads,
        "rows": counts,
        "store": server,
        "repeat": args.repeat,
        "load_seconds": round(load_seconds, 1),
        "baseline": {"query": "SELECT COUNT(*) FROM stage_changes", "seconds": round(base, 5)},
        "results": results,
        "check": {k: total[k] for k in ("leads", "mqls", "mql_rate", "sqls", "customers", "pipeline")},
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in load_after],
        },
        "when": datetime.now().isoformat(timespec="seconds"),
    }
    store.engine.dispose()
    if tmp is not None:
        tmp.cleanup()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "reports.json"
    runs = json.loads(path.read_text()) if path.exists() else {}
    runs[store.dialect] = report  # one run per store kind: SQLite and PostgreSQL side by side
    path.write_text(json.dumps(runs, indent=2) + "\n")
    (args.out / "reports.md").write_text(markdown(runs))


def markdown(runs: dict[str, dict[str, Any]]) -> str:
    lines = [
        "# Reports benchmark",
        "",
        "`python bench/bench_reports.py` (module docstring: what it writes and times). Each report is timed",
        "best of N in one process, against a plain `SELECT COUNT(*) FROM stage_changes` in the same process.",
        "The SQLite store has no planner statistics (as a live store has none); PostgreSQL is ANALYZEd.",
        "",
    ]
    for run in runs.values():
        machine = run["machine"]
        base = run["baseline"]["seconds"]
        lines += [
            f"## {run['store']}, {run['leads']:,} leads",
            "",
            f"Python {machine['python']}, {machine['cpus']} CPUs, load average {machine['loadavg_before'][0]:.2f} "
            f"before and {machine['loadavg_after'][0]:.2f} after (the machine was shared with other jobs), "
            f"{run['when']}. Rows: " + ", ".join(f"{n:,} {name}" for name, n in run["rows"].items()) + ".",
            f"Baseline `{run['baseline']['query']}`: {base * 1000:.2f} ms.",
            "",
            f"| report | seconds (best of {run['repeat']}) | ÷ baseline |",
            "|---|---:|---:|",
            *(f"| {r['report']} | {r['seconds']:.3f} | {r['ratio']:,.1f}× |" for r in run["results"]),
            "",
            "Funnel over the six months: " + ", ".join(f"{k} {v}" for k, v in run["check"].items()) + ".",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
