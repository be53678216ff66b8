"""What changed between two definitions, rule by rule.

Rules are matched by id, hard rules by reason code, paths by name, lists and groups by name; for each
matched pair the fields that differ are listed with their old and new values (points, windows, counts,
caps, half-lives, conditions, thresholds, …).  Values are shown as a definition file writes them:
durations as ``30d``, list operands as ``{list: NAME}`` (a list's own values are compared under
``lists``), defaults spelled out where a field changed from or to one.  Order matters in a few places
(disqualify reasons and qualifying paths are reported in definition order), so a reordering is a change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from leadgate.definition.model import Definition, ListFile, ListRef, Predicate, walk

SECTIONS = (
    "definition",
    "lists",
    "decay",
    "groups",
    "fit",
    "engagement",
    "require",
    "disqualify",
    "qualify",
    "paths",
    "grades",
    "levels",
)
_DURATIONS = frozenset({"within", "half_life"})
_PLAIN = re.compile(r"^[A-Za-z0-9_./@-][A-Za-z0-9_./@ -]*$")
_LOOKS_TYPED = re.compile(r"^([-+]?[0-9.]+([eE][-+]?[0-9]+)?|true|false|null|yes|no|on|off|~)$", re.IGNORECASE)


def format_duration(seconds: float) -> str:
    """Seconds as a definition writes them: ``30d``, ``1d12h``, ``90s``; 0 (a half-life) as ``none``."""
    if seconds == 0:
        return "none"
    if seconds != int(seconds):
        return f"{seconds:g}s"
    rest, parts = int(seconds), []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts)


def _number(value: float) -> int | float:
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 2**53 else value


def plain(value: Any) -> Any:
    """A model or value as the JSON a definition file would hold (durations as text, defaults left out)."""
    if isinstance(value, ListRef):
        return {"list": value.list}
    if isinstance(value, ListFile):
        return {"file": value.file}
    if isinstance(value, BaseModel):
        out: dict[str, Any] = {}
        for name, info in type(value).model_fields.items():
            v = getattr(value, name)
            if v is None or v == info.default or (isinstance(v, list) and not v and info.default == []):
                continue
            key = info.alias or name
            out[key] = format_duration(v) if key in _DURATIONS and isinstance(v, float) else plain(v)
        return out
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return _number(value)
    return value


def text(value: Any) -> str:
    """A plain value in YAML flow style, for a terminal: ``{trait: title, matches: "(vp|chief)"}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(text(v) for v in value) + "]"
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        bare = _PLAIN.match(value) and value.strip() == value and not _LOOKS_TYPED.match(value)
        return value if bare else json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class Change:
    """One item that was added, removed or changed (``fields``), or a section that was reordered."""

    section: str
    key: str
    kind: str  # "added", "removed", "changed", "reordered"
    fields: tuple[FieldChange, ...] = ()
    value: Any = None  # the whole item, for added and removed

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "key": self.key,
            "change": self.kind,
            "fields": [f.to_dict() for f in self.fields],
            "value": self.value,
        }

    def line(self) -> str:
        """``+ id: …``, ``- id: …``, ``~ id: field old → new; …``."""
        if self.kind == "added":
            return f"+ {self.key}: {text(self.value)}"
        if self.kind == "removed":
            return f"- {self.key}: {text(self.value)}"
        parts = [_field_text(f) for f in self.fields]
        return f"~ {self.key}: " + "; ".join(parts) if self.key else "~ " + "; ".join(parts)


def _field_text(f: FieldChange) -> str:
    if f.field == "added":
        return f"added {text(f.new)}"
    if f.field == "removed":
        return f"removed {text(f.old)}"
    return f"{f.field} {text(f.old)} → {text(f.new)}"


@dataclass
class DefinitionDiff:
    old_label: str
    new_label: str
    old: tuple[str, str]  # (name, version)
    new: tuple[str, str]
    changes: list[Change] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.changes

    def sections(self) -> list[tuple[str, list[Change]]]:
        return [
            (s, [c for c in self.changes if c.section == s])
            for s in SECTIONS
            if any(c.section == s for c in self.changes)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": {"label": self.old_label, "name": self.old[0], "version": self.old[1]},
            "new": {"label": self.new_label, "name": self.new[0], "version": self.new[1]},
            "identical": self.identical,
            "changes": [c.to_dict() for c in self.changes],
        }

    def lines(self) -> list[str]:
        """The diff as plain text: a heading, then each section with one line per change."""
        head = f"{self.old_label} ({self.old[0]} v{self.old[1]}) → {self.new_label} ({self.new[0]} v{self.new[1]})"
        if self.identical:
            return [head, "no changes"]
        out = [head]
        for section, changes in self.sections():
            out.append(section)
            out += ["  " + c.line() for c in changes]
        return out


def _fields(old: dict[str, Any], new: dict[str, Any], defaults: dict[str, Any]) -> tuple[FieldChange, ...]:
    keys = list(dict.fromkeys([*old, *new]))
    return tuple(
        FieldChange(k, old.get(k, defaults.get(k)), new.get(k, defaults.get(k)))
        for k in keys
        if old.get(k, defaults.get(k)) != new.get(k, defaults.get(k))
    )


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    out = {}
    for name, info in model.model_fields.items():
        if info.default is not None and not callable(info.default):
            key = info.alias or name
            out[key] = format_duration(info.default) if key in _DURATIONS else plain(info.default)
    return out


def _keyed(
    section: str,
    old: Iterable[tuple[str, Any]],
    new: Iterable[tuple[str, Any]],
    changes: list[Change],
    *,
    ordered: bool = True,
) -> None:
    """Items matched by key: added, removed, changed field by field; then a reordering, if any."""
    before = dict(old)
    after = dict(new)
    for k, item in after.items():
        shown = plain(item)
        if isinstance(shown, dict):
            shown = {f: v for f, v in shown.items() if f not in ("id", "reason", "name")}
        if k not in before:
            changes.append(Change(section, k, "added", value=shown))
            continue
        a, b = plain(before[k]), plain(item)
        defaults = _defaults(type(item)) if isinstance(item, BaseModel) else {}
        fields = _fields(a, b, defaults) if isinstance(a, dict) and isinstance(b, dict) else ()
        if not isinstance(a, dict) and a != b:
            fields = (FieldChange("value", a, b),)
        if fields:
            changes.append(Change(section, k, "changed", fields))
    for k, item in before.items():
        if k not in after:
            shown = plain(item)
            if isinstance(shown, dict):
                shown = {f: v for f, v in shown.items() if f not in ("id", "reason", "name")}
            changes.append(Change(section, k, "removed", value=shown))
    common_old = [k for k in before if k in after]
    common_new = [k for k in after if k in before]
    if ordered and common_old != common_new:
        changes.append(Change(section, "", "changed", (FieldChange("order", common_old, common_new),)))


def _list_values(defn: Definition) -> dict[str, list[Any]]:
    """Each named list's values: inline, or as resolved into the rules that use it (lists from files)."""
    values: dict[str, list[Any]] = {name: list(v) for name, v in defn.lists.items() if isinstance(v, list)}
    for cond in defn.all_conditions():
        for node in walk(cond):
            preds = [node] if isinstance(node, Predicate) else list(getattr(node, "where", []) or [])
            for pred in preds:
                for op in ("in_", "not_in", "starts_with", "ends_with", "contains"):
                    operand = getattr(pred, op)
                    if isinstance(operand, ListRef):
                        values.setdefault(operand.list, list(operand.values))
    return values


def _lists(old: Definition, new: Definition, changes: list[Change]) -> None:
    a, b = _list_values(old), _list_values(new)
    for name in dict.fromkeys([*old.lists, *new.lists]):
        if name not in old.lists:
            changes.append(Change("lists", name, "added", value=plain(b.get(name, new.lists[name]))))
        elif name not in new.lists:
            changes.append(Change("lists", name, "removed", value=plain(a.get(name, old.lists[name]))))
        else:
            fields = []
            if plain(old.lists[name]) != plain(new.lists[name]) and (
                isinstance(old.lists[name], ListFile) or isinstance(new.lists[name], ListFile)
            ):
                fields.append(FieldChange("source", plain(old.lists[name]), plain(new.lists[name])))
            va, vb = a.get(name), b.get(name)
            if va is not None and vb is not None and va != vb:
                added = [v for v in vb if v not in va]
                removed = [v for v in va if v not in vb]
                if added:
                    fields.append(FieldChange("added", None, plain(added)))
                if removed:
                    fields.append(FieldChange("removed", plain(removed), None))
                if not added and not removed:
                    fields.append(FieldChange("order", plain(va), plain(vb)))
            if fields:
                changes.append(Change("lists", name, "changed", tuple(fields)))


def _scalars(section: str, old: dict[str, Any], new: dict[str, Any], changes: list[Change]) -> None:
    fields = _fields(old, new, {})
    if fields:
        changes.append(Change(section, "", "changed", fields))


def diff_definitions(
    old: Definition, new: Definition, old_label: str = "old", new_label: str = "new"
) -> DefinitionDiff:
    """Every change from ``old`` to ``new`` (see the module docstring)."""
    changes: list[Change] = []
    _scalars(
        "definition",
        {"name": old.name, "version": plain(old.version), "description": old.description},
        {"name": new.name, "version": plain(new.version), "description": new.description},
        changes,
    )
    _lists(old, new, changes)
    _scalars("decay", plain(old.decay), plain(new.decay), changes)
    _keyed("groups", old.groups.items(), new.groups.items(), changes, ordered=False)
    _keyed("fit", [(r.id, r) for r in old.fit], [(r.id, r) for r in new.fit], changes)
    _keyed("engagement", [(r.id, r) for r in old.engagement], [(r.id, r) for r in new.engagement], changes)
    _keyed("require", [(h.reason, h) for h in old.require], [(h.reason, h) for h in new.require], changes)
    _keyed("disqualify", [(h.reason, h) for h in old.disqualify], [(h.reason, h) for h in new.disqualify], changes)
    q_old = {k: plain(getattr(old.qualify, k)) for k in ("threshold", "min_fit", "min_engagement")}
    q_new = {k: plain(getattr(new.qualify, k)) for k in ("threshold", "min_fit", "min_engagement")}
    _scalars("qualify", q_old, q_new, changes)
    _keyed("paths", [(p.name, p) for p in old.qualify.paths], [(p.name, p) for p in new.qualify.paths], changes)
    _scalars("grades", _grades(old), _grades(new), changes)
    _scalars("levels", _levels(old), _levels(new), changes)
    return DefinitionDiff(old_label, new_label, (old.name, old.version_str), (new.name, new.version_str), changes)


def _grades(defn: Definition) -> dict[str, Any]:
    return {k: _number(float(getattr(defn.grades, k))) for k in ("A", "B", "C")}


def _levels(defn: Definition) -> dict[str, Any]:
    lv = defn.levels
    return {"1": _number(float(lv.l1)), "2": _number(float(lv.l2)), "3": _number(float(lv.l3))}
