"""Docs that are tested: every CLI command (and subcommand) and every HTTP endpoint is documented in the
README or docs/*.md, so a command or route added without its documentation fails here."""

from __future__ import annotations

import re

import click

from leadgate.cli import main
from leadgate.service.app import create_app
from leadgate.store.store import Store
from tests.conftest import ROOT

DOCS = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def _commands(group: click.Group, prefix: str) -> list[str]:
    out = []
    for name, command in sorted(group.commands.items()):
        out.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            out.extend(_commands(command, f"{prefix} {name}"))
    return out


def test_every_cli_command_is_documented() -> None:
    commands = _commands(main, "leadgate")
    assert {"leadgate score", "leadgate backtest", "leadgate report funnel", "leadgate predict train"} <= set(commands)
    # top-level commands as `leadgate NAME`; subcommands also as `GROUP NAME` (tables often drop the prefix)
    missing = [c for c in commands if c not in DOCS and (c.count(" ") == 1 or c.split(" ", 1)[1] not in DOCS)]
    assert missing == []


def test_every_http_endpoint_is_documented(tmp_path: object) -> None:
    app = create_app(Store(f"sqlite:///{tmp_path}/docs.db"), background=False)
    paths = app.openapi()["paths"]
    assert len(paths) > 30
    # a documented path may name its parameters differently ({id} for {lead_id}) or list alternatives
    missing = [p for p in paths if re.sub(r"\{[^}]+\}", "{", p) not in re.sub(r"\{[^}]+\}", "{", DOCS)]
    assert missing == []
