"""docs/reports.md is the contract: its column tables equal the columns the code computes, word for word,
and every CLI command and endpoint of the reports is documented."""

from __future__ import annotations

import re

from leadgate.cli_reports import report
from leadgate.reports import COLUMNS
from leadgate.service.routes_reports import router
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "reports.md").read_text()


def documented_columns(name: str) -> list[tuple[str, str, str]]:
    section = DOC.split(f"### Columns: {name}\n", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| (.+) \|$", section, flags=re.MULTILINE)
    assert rows, f"no column table for {name}"
    return rows


def test_every_column_is_documented_as_computed() -> None:
    for name, columns in COLUMNS.items():
        assert documented_columns(name) == [(c.name, c.kind, c.description) for c in columns], name


def test_every_command_and_endpoint_is_documented() -> None:
    for command in report.commands:
        assert f"leadgate report {command} --from" in DOC, command
    for route in router.routes:
        assert f"GET {route.path}" in DOC, route.path  # type: ignore[attr-defined]
