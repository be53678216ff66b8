"""Migrations and models agree on SQLite and PostgreSQL (Alembic finds no difference at all), and 0007 both
creates the messages table and clears the scores merges used to leave behind."""

from __future__ import annotations

from datetime import datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from leadgate.store import db
from leadgate.store.models import Base
from leadgate.store.store import Store

NOW = datetime(2026, 11, 1, 12, 0, 0)


def test_the_migrations_build_exactly_the_schema_the_models_describe(store_url: str) -> None:
    store = Store(store_url)
    store.upgrade()
    try:
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0007"
        assert "messages" in inspect(store.engine).get_table_names()
    finally:
        store.engine.dispose()


def test_0007_removes_the_scores_of_merged_leads(store_url: str) -> None:
    db.upgrade(store_url, "0006")
    store = Store(store_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO definition_versions (id, name, version, source, sha256, author, created_at, active)"
                    " VALUES (1, 'd', '1', '', '', 't', :now, true)"
                ),
                {"now": NOW},
            )
            for lead_id, into in (("u1", None), ("anon:v1", "u1")):
                conn.execute(
                    text(
                        "INSERT INTO leads (id, traits, known, stage, merged_into, created_at, created_us, updated_at)"
                        " VALUES (:id, '{}', true, 'mql', :into, :now, 0, :now)"
                    ),
                    {"id": lead_id, "into": into, "now": NOW},
                )
                conn.execute(
                    text(
                        "INSERT INTO scores (lead_id, definition_version_id, as_of, fit, engagement, total, qualified,"
                        " grade, level, explanation, updated_at) VALUES (:id, 1, :now, 0, 100, 100, true, 'A', 1,"
                        " '{}', :now)"
                    ),
                    {"id": lead_id, "now": NOW},
                )
        store.upgrade()
        with store.engine.connect() as conn:
            assert list(conn.scalars(text("SELECT lead_id FROM scores"))) == ["u1"]
        assert store.status()["qualified_now"] == 1
    finally:
        store.engine.dispose()
