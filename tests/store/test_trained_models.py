"""Trained models in the store, on SQLite and (postgres suite) PostgreSQL: kept by name and version, the
latest found by name, storing the same model twice keeps one row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from leadgate.errors import LeadgateError
from leadgate.store.store import Store
from leadgate.store.trained_models import list_models, load_model, save_model

AT = datetime(2026, 11, 1, 12, 0, 0)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = Store(store_url)
    st.upgrade()
    yield st
    st.engine.dispose()


def _doc(version: str, weight: float) -> dict[str, object]:
    return {"format": "leadgate.model/1", "name": "sql_30d", "version": version, "outcome": "sql",
            "features": [{"id": "x", "weight": weight}], "intercept": -2.0}  # fmt: skip


def test_latest_by_name_and_a_given_version(store: Store) -> None:
    save_model(store, _doc("aaa", 0.5), AT, AT)
    save_model(store, _doc("bbb", 0.7), AT, datetime(2026, 11, 2))
    save_model(store, _doc("aaa", 0.5), AT, datetime(2026, 11, 3))  # the same model again: kept once
    assert [m.version for m in list_models(store)] == ["aaa", "bbb"]
    assert load_model(store, "sql_30d")["version"] == "bbb"
    assert load_model(store, "sql_30d", "aaa")["features"] == [{"id": "x", "weight": 0.5}]
    with pytest.raises(LeadgateError, match="no trained model 'other'"):
        load_model(store, "other")
