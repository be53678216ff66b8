"""A tiny history whose backtest is worked out by hand (days relative to T0 = 2026-03-01T00:00:00Z).

Definition: VP title +20; demo (once) +50; pricing 3× within 7d (once) +30; careers within 7d (once) −40;
MQL at 70.  Weekly snapshots T0, T0+7d, T0+14d, T0+21d: periods (0,7], (7,14], (14,21].

    lead  title  created   events                                   first qualifies
    A     VP     −10d      demo +2d10h                               +2d10h  event    period 1
    B     –      +1d       pricing +8d +9d +10d, demo +12d           +12d    event    period 2
    C     VP     −20d      demo −3d                                  at T0 (before the range)
    D     VP     −5d       pricing +3d +4d +12d                      never (never 3 within 7 days)
    E     VP     +15d      demo +14d (before it was created)         +15d    created  period 3
    F     VP     −30d      careers +12h, demo +1d                    +7d12h  window   period 2
    G     VP     unknown   demo +20d                                 +20d    event    period 3
    H     VP     +25d      demo +16d                                 never (created after the end)

Outcomes: A SQL +5d, won 1000; B SQL +10d (before its MQL: already an SQL), won 500; C SQL; E SQL +20d;
G SQL at an unknown time; F and the others none.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from leadgate.definition.loader import parse_definition
from leadgate.definition.model import Definition
from leadgate.inputs.dataset import TS_TYPE, Dataset

T0 = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
DAY = 86400.0

DEFINITION = """\
schema: 1
name: tiny
version: 1
fit:
  - {id: vp, when: {trait: title, equals: VP}, points: 20}
engagement:
  - {id: demo, event: demo, per: once, points: 50}
  - {id: pricing, event: pricing, min_count: 3, within: 7d, per: once, points: 30}
  - {id: careers, event: careers, within: 7d, per: once, points: -40}
qualify: {threshold: 70}
"""


def definition(text: str = DEFINITION) -> Definition:
    return parse_definition(text, filename="tiny.yaml")


def _ts(days: list[float | None]) -> pa.Array:
    return pa.array([None if d is None else round((T0 + d * DAY) * 1_000_000) for d in days], pa.int64()).cast(TS_TYPE)


def at(days: float) -> float:
    return T0 + days * DAY


LEADS = [  # lead, title, created (days)
    ("A", "VP", -10.0),
    ("B", None, 1.0),
    ("C", "VP", -20.0),
    ("D", "VP", -5.0),
    ("E", "VP", 15.0),
    ("F", "VP", -30.0),
    ("G", "VP", None),
    ("H", "VP", 25.0),
]
EVENTS = [  # lead, event, day
    ("A", "demo", 2 + 10 / 24),
    ("B", "pricing", 8.0),
    ("B", "pricing", 9.0),
    ("B", "pricing", 10.0),
    ("B", "demo", 12.0),
    ("C", "demo", -3.0),
    ("D", "pricing", 3.0),
    ("D", "pricing", 4.0),
    ("D", "pricing", 12.0),
    ("E", "demo", 14.0),
    ("F", "careers", 0.5),
    ("F", "demo", 1.0),
    ("G", "demo", 20.0),
    ("H", "demo", 16.0),
]


def dataset() -> Dataset:
    leads = pa.table(
        {
            "lead_id": pa.array([lead for lead, _, _ in LEADS], pa.string()),
            "email": pa.nulls(len(LEADS), pa.string()),
            "email_domain": pa.nulls(len(LEADS), pa.string()),
            "account_id": pa.nulls(len(LEADS), pa.string()),
            "created_at": _ts([c for _, _, c in LEADS]),
            "title": pa.array([t for _, t, _ in LEADS], pa.string()),
        }
    )
    events = pa.table(
        {
            "lead_id": pa.array([e[0] for e in EVENTS], pa.string()),
            "event": pa.array([e[1] for e in EVENTS], pa.string()),
            "ts": _ts([e[2] for e in EVENTS]),
        }
    )
    return Dataset(leads=leads, events=events)


def outcomes_table() -> pa.Table:
    rows = [  # lead, became_sql, sql_at, opportunity, won, revenue
        ("A", True, 5.0, True, True, 1000.0),
        ("B", True, 10.0, True, True, 500.0),
        ("C", True, -1.0, False, False, 0.0),
        ("E", True, 20.0, False, False, 0.0),
        ("G", True, None, False, False, 0.0),
    ]
    return pa.table(
        {
            "lead_id": pa.array([r[0] for r in rows], pa.string()),
            "became_sql": pa.array([r[1] for r in rows]),
            "sql_at": _ts([r[2] for r in rows]),
            "opportunity": pa.array([r[3] for r in rows]),
            "won": pa.array([r[4] for r in rows]),
            "revenue": pa.array([r[5] for r in rows]),
        }
    )
