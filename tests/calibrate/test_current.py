"""What a proposal keeps of the current definition, and what it leaves out with a note."""

from __future__ import annotations

from pathlib import Path

from leadgate.calibrate.current import Current, reads_score


def test_carried_parts_and_notes(tmp_path: Path) -> None:
    folder = tmp_path / "defs"
    (folder / "lists").mkdir(parents=True)
    (folder / "lists" / "rivals.txt").write_text("rival.io\n# comment\nother.com\n")
    source = folder / "d.yaml"
    source.write_text(
        "schema: 1\nname: d\nversion: v7\n"
        "lists:\n  rivals: {file: lists/rivals.txt}\n  edu: ['.edu']\n"
        "decay: {half_life: 14d}\n"
        "groups: {g: {cap: 10}}\n"
        "fit:\n  - {id: a, when: {trait: t, equals: x}, points: 5, group: g}\n"
        "require:\n  - {reason: fit_enough, when: {score: fit, gte: 5}}\n"
        "disqualify:\n  - {reason: rival, when: {trait: email_domain, in: {list: rivals}}}\n"
        "qualify:\n  threshold: 10\n  min_engagement: 3\n"
        "  paths:\n    - {name: p, when: {signal: a}}\n"
    )
    current = Current.load(source)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    carried = current.carried(out_dir)
    assert carried["lists"]["rivals"] == {"file": "../defs/lists/rivals.txt"}
    assert carried["decay"] == {"half_life": "14d"}
    assert "require" not in carried and carried["disqualify"][0]["reason"] == "rival"
    assert [p["name"] for p in carried["paths"]] == ["p"]
    notes = " | ".join(current.notes)
    assert "require 'fit_enough' left out" in notes and "min_engagement" in notes and "groups left out (g)" in notes
    assert current.resolved_lists() == {"rivals": ["rival.io", "other.com"]}
    assert current.label == "d vv7"


def test_reads_score_looks_inside_conditions() -> None:
    assert reads_score({"all": [{"trait": "x", "equals": 1}, {"not": {"score": "total", "lt": 3}}]})
    assert not reads_score({"any": [{"trait": "score", "gte": 3}, {"signal": "score"}]})
