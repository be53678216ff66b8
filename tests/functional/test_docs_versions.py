"""Docs that are tested: every `definitions` subcommand, `backtest` and its options, and every route of
the definitions router appear in docs/versions.md and docs/backtest.md."""

from __future__ import annotations

import re

from leadgate.cli import main
from leadgate.service.routes_definitions import router
from tests.conftest import ROOT

VERSIONS = (ROOT / "docs" / "versions.md").read_text()
BACKTEST = (ROOT / "docs" / "backtest.md").read_text()


def test_every_definitions_subcommand_is_documented() -> None:
    group = main.commands["definitions"]
    for name in group.commands:  # type: ignore[attr-defined]
        assert f"leadgate definitions {name}" in VERSIONS, name


def test_every_backtest_option_is_documented() -> None:
    for param in main.commands["backtest"].params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--"):
                assert f"`{opt}" in BACKTEST, opt


def test_every_definitions_route_is_documented() -> None:
    for route in router.routes:
        path = re.sub(r"\{\w+\}", "{ref}", route.path)  # type: ignore[attr-defined]
        for method in route.methods:  # type: ignore[attr-defined]
            assert f"`{method} {path}" in VERSIONS, f"{method} {path}"
