"""Golden files: the SQL compiled for each case and dialect is pinned in tests/fixtures/compile.

Regenerate after an intended change with LEADGATE_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadgate.compiler import DIALECTS, compile_definition
from leadgate.definition.loader import load_definition

FIXTURES = Path(__file__).parent / "fixtures" / "compile"
AS_OF = 1_761_955_200.0  # 2025-11-01T00:00:00Z
CASES = sorted(p.stem for p in FIXTURES.glob("*.yaml"))


def pairs() -> list[tuple[str, str]]:
    return [(case, dialect) for case in CASES for dialect in DIALECTS]


@pytest.mark.parametrize(("case", "dialect"), pairs())
def test_compiled_sql_matches_golden_file(case: str, dialect: str) -> None:
    defn = load_definition(FIXTURES / f"{case}.yaml")
    sql = compile_definition(defn, dialect=dialect, as_of=AS_OF).sql(pretty=True) + "\n"
    golden = FIXTURES / f"{case}.{dialect}.sql"
    if os.environ.get("LEADGATE_UPDATE_GOLDEN"):
        golden.write_text(sql)
    assert golden.exists(), f"missing {golden}; run with LEADGATE_UPDATE_GOLDEN=1"
    assert sql == golden.read_text()


def test_compiling_opens_no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    import duckdb

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("the compiler must not connect")

    monkeypatch.setattr(sqlite3, "connect", refuse)
    monkeypatch.setattr(duckdb, "connect", refuse)
    defn = load_definition(FIXTURES / "classic.yaml")
    for dialect in DIALECTS:
        assert "SELECT" in compile_definition(defn, dialect=dialect, as_of=AS_OF).sql()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_template_gives_the_same_sql_as_compiling_at_that_instant(data: st.DataObject) -> None:
    from leadgate.compiler.query import compile_template
    from tests.strategies import as_ofs, definitions

    defn = data.draw(definitions())
    dialect = data.draw(st.sampled_from(DIALECTS))
    as_of = data.draw(as_ofs()) + data.draw(st.sampled_from([0.0, 86400.0, -3.000001]))
    assert (
        compile_template(defn, dialect=dialect).at(as_of).sql()
        == compile_definition(defn, dialect=dialect, as_of=as_of).sql()
    )
