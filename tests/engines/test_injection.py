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


EVIL_MODEL = "m'); DROP TABLE predictions; --"


def hostile_abm() -> tuple[Definition, Dataset]:
    """Hostile account ids, lead ids and a hostile model name, through the account and prediction stages."""
    defn = Definition.model_validate(
        {
            "schema": 1,
            "name": "hostile_abm",
            "version": 1,
            "engagement": [{"id": "v", "event": EVIL_EVENT, "points": 10}],
            "account": {"threshold": 20},
            "qualify": {
                "paths": [
                    {"name": "abm", "when": {"account_qualified": True}},
                    {"name": "model", "when": {"predicted": EVIL_MODEL, "gte": 0.5}},
                ]
            },
        }
    )
    micros = int(T * 1_000_000) - 1_000_000
    leads = pa.table(
        {
            "lead_id": ["a", EVIL, BACKSLASH],
            "email": pa.nulls(3, pa.string()),
            "email_domain": pa.nulls(3, pa.string()),
            "account_id": [EVIL, EVIL, BACKSLASH],
            "created_at": pa.nulls(3, TS_TYPE),
        }
    )
    events = pa.table(
        {"lead_id": ["a", EVIL], "event": [EVIL_EVENT] * 2, "ts": pa.array([micros] * 2, pa.int64()).cast(TS_TYPE)}
    )
    predictions = pa.table(
        {
            "lead_id": [BACKSLASH, "a"],
            "model": [EVIL_MODEL, "m"],
            "probability": [0.5, 0.9],
            "scored_at": pa.array([micros] * 2, pa.int64()).cast(TS_TYPE),
        }
    )
    return defn, Dataset(leads=leads, events=events, predictions=predictions)


def check_abm(engine: Engine) -> None:
    defn, data = hostile_abm()
    engine.load(prepare_tables(defn, data))
    scores = {s.lead_id: s for s in engine.run(compile_definition(defn, dialect=engine.dialect, as_of=T))}
    assert scores["a"].qualified_by == ["abm"] and scores[EVIL].qualified_by == ["abm"]
    assert scores["a"].account is not None and scores["a"].account.account_id == EVIL
    assert scores["a"].predicted == {EVIL_MODEL: None}
    assert scores[BACKSLASH].qualified_by == ["model"] and scores[BACKSLASH].predicted == {EVIL_MODEL: 0.5}
    query = (
        'SELECT COUNT(*) AS "n" FROM "predictions"'
        if engine.dialect != "spark"
        else "SELECT COUNT(*) AS n FROM predictions"
    )
    assert int(engine.fetch(query)[0]["n"]) == 2


def test_injection_is_inert_on_sqlite() -> None:
    from leadgate.engines.sqlite import SQLiteEngine

    with SQLiteEngine() as engine:
        check(engine)
        check_abm(engine)


def test_injection_is_inert_on_duckdb() -> None:
    from leadgate.engines.duckdb import DuckDBEngine

    with DuckDBEngine() as engine:
        check(engine)
        check_abm(engine)


@pytest.mark.postgres
def test_injection_is_inert_on_postgres(postgres_engine: Engine) -> None:
    check(postgres_engine)
    check_abm(postgres_engine)


@pytest.mark.spark
def test_injection_is_inert_on_spark(spark_engine: Engine) -> None:
    check(spark_engine)
    check_abm(spark_engine)
