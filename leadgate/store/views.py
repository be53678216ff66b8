"""The store seen as the normalized tables of docs/semantics.md, so the compiled scoring SQL runs on it.

Traits and properties are JSON documents; a definition reads some of them with a type.  These temporary
views present each as a typed column: a value of another JSON type reads as missing (NULL), exactly as a
value a file reader could not convert would have been rejected.  Times come from the exact ``*_us``
columns: REAL epoch seconds on SQLite (what compiled SQLite SQL compares), TIMESTAMP on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from leadgate.engines.base import quote_ident

VIEW_NAMES = {"leads": "lg_leads", "accounts": "lg_accounts", "events": "lg_events", "predictions": "lg_predictions"}
JSON_TYPES = {
    "sqlite": {
        "number": ("'integer', 'real'", "REAL"),
        "string": ("'text'", "TEXT"),
        "boolean": ("'true', 'false'", "INTEGER"),
    },
    "postgresql": {
        "number": ("'number'", "DOUBLE PRECISION"),
        "string": ("'string'", "TEXT"),
        "boolean": ("'boolean'", "BOOLEAN"),
    },
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _json_field(dialect: str, document: str, key: str, kind: str | None) -> str:
    kinds = JSON_TYPES[dialect]
    types, cast = kinds.get(kind or "string", kinds["string"])
    k = _literal(key)
    if dialect == "sqlite":
        path = f"'$.' || json_quote({k})"
        value = f"json_extract({document}, {path})"
        return f"CASE WHEN json_type({document}, {path}) IN ({types}) THEN CAST({value} AS {cast}) END"
    return f"CASE WHEN jsonb_typeof({document} -> {k}) IN ({types}) THEN CAST({document} ->> {k} AS {cast}) END"


def _instant(dialect: str, micros_column: str) -> str:
    if dialect == "sqlite":
        return f"({micros_column} / 1000000.0)"
    return f"(TIMESTAMP '1970-01-01 00:00:00' + {micros_column} * INTERVAL '1 microsecond')"


def view_statements(
    dialect: str, field_types: Mapping[tuple[str, str], str | None], lead_ids: Iterable[str] | None = None
) -> list[str]:
    """CREATE TEMP VIEW statements for the leads, accounts, events and predictions a definition reads.

    ``lead_ids`` limits the views to those leads (real-time scoring of the leads an event touched; for a
    definition with account roll-ups the caller includes the accounts' other leads, ``accounts.py``)."""
    q = quote_ident
    wanted: dict[str, dict[str, str | None]] = {"leads": {}, "accounts": {}, "events": {}}
    for (table, column), kind in field_types.items():
        wanted[table][column] = kind
    only = ""
    if lead_ids is not None:
        ids = ", ".join(_literal(i) for i in lead_ids) or "NULL"
        only = f" AND l.id IN ({ids})"
    lead_cols = [
        f"l.id AS {q('lead_id')}", f"l.email AS {q('email')}", f"l.email_domain AS {q('email_domain')}",
        f"l.account_id AS {q('account_id')}", f"{_instant(dialect, 'l.created_us')} AS {q('created_at')}",
    ]  # fmt: skip
    core_leads = {"lead_id", "email", "email_domain", "account_id", "created_at"}
    lead_cols += [
        f"{_json_field(dialect, 'l.traits', c, k)} AS {q(c)}" for c, k in wanted["leads"].items() if c not in core_leads
    ]
    account_cols = [f"a.id AS {q('account_id')}"]
    account_cols += [
        f"{_json_field(dialect, 'a.traits', c, k)} AS {q(c)}"
        for c, k in wanted["accounts"].items()
        if c != "account_id"
    ]
    event_cols = [
        f"e.lead_id AS {q('lead_id')}",
        f"e.event AS {q('event')}",
        f"{_instant(dialect, 'e.ts_us')} AS {q('ts')}",
    ]
    event_cols += [
        f"{_json_field(dialect, 'e.properties', c, k)} AS {q(c)}"
        for c, k in wanted["events"].items()
        if c not in ("lead_id", "event", "ts")
    ]
    event_only = prediction_only = ""
    if lead_ids is not None:
        ids = ", ".join(_literal(i) for i in lead_ids) or "NULL"
        event_only = f" AND e.lead_id IN ({ids})"
        prediction_only = f" WHERE p.lead_id IN ({ids})"
    prediction_cols = [
        f"p.lead_id AS {q('lead_id')}",
        f"p.model AS {q('model')}",
        f"p.probability AS {q('probability')}",
        f"{_instant(dialect, 'p.scored_us')} AS {q('scored_at')}",
    ]
    temp = "TEMP VIEW"
    drop = [f"DROP VIEW IF EXISTS {q(v)}" for v in VIEW_NAMES.values()]
    return [
        *drop,
        f"CREATE {temp} {q(VIEW_NAMES['leads'])} AS SELECT {', '.join(lead_cols)} FROM leads AS l "
        f"WHERE l.merged_into IS NULL{only}",
        f"CREATE {temp} {q(VIEW_NAMES['accounts'])} AS SELECT {', '.join(account_cols)} FROM accounts AS a",
        f"CREATE {temp} {q(VIEW_NAMES['events'])} AS SELECT {', '.join(event_cols)} FROM events AS e "
        f"WHERE NOT e.is_bot{event_only}",
        f"CREATE {temp} {q(VIEW_NAMES['predictions'])} AS SELECT {', '.join(prediction_cols)} "
        f"FROM predictions AS p{prediction_only}",
    ]
