"""Functional: `leadgate definitions push | list | show | diff | activate` against a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.functional.test_cli import leadgate


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A store with classic v1 (active) and a v2 with a lower threshold and a bigger demo."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    v2 = tmp_path / "classic_v2.yaml"
    v2.write_text(
        (EXAMPLES / "classic.yaml").read_text().replace("version: 1", "version: 2")
        .replace("threshold: 100", "threshold: 90").replace("    points: 25\n", "    points: 40\n", 1)
    )  # fmt: skip
    for path, extra in ((EXAMPLES / "classic.yaml", ["--activate"]), (v2, [])):
        result = leadgate("definitions", "push", path, "--author", "ann", "--database", url, *extra)
        assert result.returncode == 0, result.stderr
    return url


def test_list_and_show(db: str) -> None:
    result = leadgate("definitions", "list", "--database", db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("#1" in line and "classic" in line and "ann" in line and "active" in line for line in lines)
    assert any("#2" in line and "active" not in line for line in lines)
    listed = json.loads(leadgate("definitions", "list", "--database", db, "--json").stdout)
    assert [(v["id"], v["version"], v["active"], v["author"]) for v in listed] == [(1, "1", True, "ann"),
                                                                                 (2, "2", False, "ann")]  # fmt: skip
    shown = leadgate("definitions", "show", "1", "--database", db)
    assert shown.returncode == 0 and shown.stdout == (EXAMPLES / "classic.yaml").read_text()
    detail = json.loads(leadgate("definitions", "show", "classic@2", "--database", db, "--json").stdout)
    assert detail["id"] == 2 and "threshold: 90" in detail["source"]


def test_diff_stored_versions_and_files(db: str, tmp_path: Path) -> None:
    result = leadgate("definitions", "diff", "1", "2", "--database", db)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "#1 classic@1 (classic v1) → #2 classic@2 (classic v2)" in out
    assert "~ demo_request: points 25 → 40" in out and "~ threshold 100 → 90" in out
    data = json.loads(leadgate("definitions", "diff", EXAMPLES / "classic.yaml", "active", "--database", db,
                               "--json").stdout)  # fmt: skip
    assert data["identical"] is True  # the file and the active version are the same definition
    two_files = leadgate("definitions", "diff", EXAMPLES / "classic.yaml", EXAMPLES / "b2b_saas.yaml", "--json")
    assert two_files.returncode == 0 and json.loads(two_files.stdout)["new"]["name"] == "b2b_saas"


def test_activate_then_list(db: str) -> None:
    result = leadgate("definitions", "activate", "2", "--author", "bob", "--database", db)
    assert result.returncode == 0, result.stderr
    listed = json.loads(leadgate("definitions", "list", "--database", db, "--json").stdout)
    assert [v["active"] for v in listed] == [False, True]


def test_unknown_versions_are_clean_errors(db: str, tmp_path: Path) -> None:
    for args in (("show", "7"), ("diff", "1", "classic@9")):
        result = leadgate("definitions", *args, "--database", db)
        assert result.returncode == 2, result.stdout
        assert "no stored definition version" in result.stderr and "Traceback" not in result.stderr
    missing = leadgate("definitions", "diff", "nope.yaml", "1", "--database", f"sqlite:///{tmp_path / 'none.db'}")
    assert missing.returncode == 2 and "neither a definition file nor a version" in missing.stderr


def test_push_and_activate_errors_are_clean(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: 1\nname: bad\nversion: 1\nqualify:\n  threshold: 10\n  treshold: 20\n")
    result = leadgate("definitions", "push", bad, "--author", "ann", "--database", db)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{bad}:6:3" in result.stderr and "treshold" in result.stderr
    for ref in ("99", "classic@9", "nope"):
        result = leadgate("definitions", "activate", ref, "--author", "bob", "--database", db)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert f"no stored definition version '{ref}'" in result.stderr
    listed = json.loads(leadgate("definitions", "list", "--database", db, "--json").stdout)
    assert [v["id"] for v in listed] == [1, 2] and [v["active"] for v in listed] == [True, False]


def test_pushing_a_stored_version_again(db: str, tmp_path: Path) -> None:
    again = leadgate("definitions", "push", EXAMPLES / "classic.yaml", "--author", "bob", "--database", db)
    assert again.returncode == 0, again.stderr
    assert "classic v1 is already stored as #1 with the same content; nothing pushed" in again.stdout
    changed = tmp_path / "classic_v1_changed.yaml"
    changed.write_text((EXAMPLES / "classic.yaml").read_text().replace("threshold: 100", "threshold: 80"))
    result = leadgate("definitions", "push", changed, "--author", "bob", "--database", db)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "IntegrityError" not in result.stderr
    assert "classic@1 is already stored as #1 with different content; bump version" in result.stderr
    listed = json.loads(leadgate("definitions", "list", "--database", db, "--json").stdout)
    assert [(v["id"], v["author"]) for v in listed] == [(1, "ann"), (2, "ann")]  # nothing new, nothing changed


@pytest.mark.parametrize("ref", ["classic@2", "#2", "latest", "classic"])
def test_activate_takes_a_ref(db: str, ref: str) -> None:
    result = leadgate("definitions", "activate", ref, "--author", "bob", "--database", db)
    assert result.returncode == 0, result.stderr
    assert "activated #2" in result.stdout
    active = json.loads(leadgate("definitions", "show", "active", "--database", db, "--json").stdout)
    assert active["id"] == 2
