"""Definitions and data are user input that ends up in SQL.  Hostile field names, strings, patterns and
event names must be inert on every engine: scored as plain values, and no table harmed."""

from __future__ import annotations

import pyarrow as pa
import pytest

from leadgate.compiler import compile_definition
from leadgate.definition.model import Definition
from leadgate.engines import Engine, prepare_tables
from leadgate.inputs.dataset import TS_TYPE, Dataset

T = 1_761_955_200.0
EVIL = "x'); DROP TABLE leads; --"
EVIL_NAME = 'ti"tle`; DROP TABLE leads; --'
EVIL_EVENT = "page' OR '1'='1"
EVIL_PROP = "pa`th\"'"
BACKSLASH = "C:\\temp\\'quote"


def hostile_definition() -> Definition:
    return Definition.model_validate(
        {
            "schema": 1,
            "name": "hostile",
            "version": "1'; --",
            "lists": {"evil": [EVIL, BACKSLASH]},
            "fit": [
                {"id": "evil_trait", "when": {"trait": EVIL_NAME, "equals": EVIL}, "points": 10},
                {
                    "id": "evil_list",
                    "when": {"trait": EVIL_NAME, "in": {"list": "evil", "values": [EVIL, BACKSLASH]}},
                    "points": 1,
                },
                {"id": "evil_regex", "when": {"trait": EVIL_NAME, "matches": "'\\); DROP"}, "points": 100},
                {"id": "backslash", "when": {"trait": EVIL_NAME, "starts_with": "C:\\temp"}, "points": 1000},
            ],
            "engagement": [
                {
                    "id": "evil_event",
                    "event": EVIL_EVENT,
                    "where": [{"property": EVIL_PROP, "ends_with": EVIL}],
                    "points": 5,
                },
            ],
            "qualify": {"threshold": 15},
        }
    )


def hostile_data() -> Dataset:
    micros = int(T * 1_000_000) - 1_000_000
    leads = pa.table(
        {
            "lead_id": ["a", EVIL, BACKSLASH],
            "email": [None, None, None],
            "email_domain": [None, None, None],
            "account_id": [None, None, None],
            "created_at": pa.nulls(3, TS_TYPE),
            EVIL_NAME: [EVIL, "plain", BACKSLASH],
        }
    )
    events = pa.table(
        {
            "lead_id": ["a", "a", EVIL],
            "event": [EVIL_EVENT, "page", EVIL_EVENT],
            "ts": pa.array([micros] * 3, pa.int64()).cast(TS_TYPE),
            EVIL_PROP: ["ends " + EVIL, "ends " + EVIL, "nope"],
        }
    )
    return Dataset(leads=leads, events=events)


def check(engine: Engine) -> None:
    defn = hostile_definition()
    engine.load(prepare_tables(defn, hostile_data()))
    scores = {s.lead_id: s for s in engine.run(compile_definition(defn, dialect=engine.dialect, as_of=T))}
    assert set(scores) == {"a", EVIL, BACKSLASH}
    a = scores["a"]
    # equals + in-list + regex on the evil value; one evil event with the evil property suffix
    assert (a.fit, a.engagement, a.qualified) == (111.0, 5.0, True)
    assert scores[EVIL].total == 0.0
    assert scores[BACKSLASH].fit == 1001.0  # in-list + starts_with with backslashes
    rows = engine.fetch(
        'SELECT COUNT(*) AS "n" FROM "leads"' if engine.dialect != "spark" else "SELECT COUNT(*) AS n FROM leads"
    )
    assert int(rows[0]["n"]) == 3


def test_injection_is_inert_on_sqlite() -> None:
    from leadgate.engines.sqlite import SQLiteEngine

    with SQLiteEngine() as engine:
        check(engine)


def test_injection_is_inert_on_duckdb() -> None:
    from leadgate.engines.duckdb import DuckDBEngine

    with DuckDBEngine() as engine:
        check(engine)


@pytest.mark.postgres
def test_injection_is_inert_on_postgres(postgres_engine: Engine) -> None:
    check(postgres_engine)


@pytest.mark.spark
def test_injection_is_inert_on_spark(spark_engine: Engine) -> None:
    check(spark_engine)
