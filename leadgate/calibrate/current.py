"""The current definition, as calibration starts from it: its typed model and the YAML data it was
written as, and which parts carry over unchanged into a proposal.

Hard rules (``require`` / ``disqualify``) and named qualification paths are business policy, not weights:
they are copied as written.  What depends on the old points scale cannot be copied meaningfully and is
left out with a note: conditions on a score (``{score: fit, gte: 40}``), ``min_fit`` / ``min_engagement``,
and groups (a cap over several rules is not linear in points, so it has no place in a fitted sum).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from leadgate.definition.loader import load_definition, parse_definition
from leadgate.definition.model import Definition, ListRef


@dataclass
class Current:
    definition: Definition
    raw: dict[str, Any]
    source: str
    base_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: str | Path) -> Current:
        path = Path(path)
        defn = load_definition(path)
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))  # already validated by the loader
        return cls(defn, raw, str(path), path.parent)

    @classmethod
    def parse(cls, text: str, source: str = "<string>", base_dir: Path | None = None) -> Current:
        defn = parse_definition(text, filename=source, base_dir=base_dir)
        return cls(defn, yaml.safe_load(text), source, base_dir)

    @property
    def label(self) -> str:
        return f"{self.definition.name} v{self.definition.version_str}"

    def carried(self, out_dir: Path | None = None) -> dict[str, Any]:
        """The parts of the definition a proposal keeps as written: lists (file lists re-pointed from
        ``out_dir``), decay, hard rules and paths that do not read a score.  Fills ``notes``."""
        raw, notes = self.raw, []
        doc: dict[str, Any] = {}
        lists = {}
        for name, value in (raw.get("lists") or {}).items():
            if isinstance(value, dict) and "file" in value and self.base_dir is not None:
                target = (self.base_dir / value["file"]).resolve()
                value = {"file": os.path.relpath(target, (out_dir or Path.cwd()).resolve())}
            lists[name] = value
        if lists:
            doc["lists"] = lists
        if raw.get("decay"):
            doc["decay"] = raw["decay"]
        for key in ("require", "disqualify"):
            kept = []
            for rule in raw.get(key) or []:
                if reads_score(rule.get("when")):
                    notes.append(f"{key} '{rule['reason']}' left out: it reads a score, whose scale has changed")
                else:
                    kept.append(rule)
            if kept:
                doc[key] = kept
        qualify = raw.get("qualify") or {}
        paths = []
        for path in qualify.get("paths") or []:
            if reads_score(path.get("when")):
                notes.append(f"path '{path['name']}' left out: it reads a score, whose scale has changed")
            else:
                paths.append(path)
        if paths:
            doc["paths"] = paths
        for key in ("min_fit", "min_engagement"):
            if qualify.get(key) is not None:
                notes.append(f"qualify.{key} left out: the fit / engagement scale has changed")
        if raw.get("groups"):
            notes.append(f"groups left out ({', '.join(raw['groups'])}): a cap over several rules is not linear")
        self.notes = notes
        return doc

    def resolved_lists(self) -> dict[str, list[Any]]:
        """Every list the definition's conditions use, with its values (file lists read): for documents that
        must stand alone, such as a trained model's feature definition."""
        out: dict[str, list[Any]] = {}
        for pred in self.definition.predicates():
            for op in ("in_", "not_in", "starts_with", "ends_with", "contains"):
                operand = getattr(pred, op)
                if isinstance(operand, ListRef):
                    out[operand.list] = list(operand.values)
        return out


def reads_score(cond: Any) -> bool:
    """Whether a condition (YAML data) compares a score anywhere inside it."""
    if isinstance(cond, dict):
        return "score" in cond or any(reads_score(v) for v in cond.values())
    if isinstance(cond, list):
        return any(reads_score(v) for v in cond)
    return False
