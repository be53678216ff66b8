"""Rule by rule, what a proposal changes in a definition: rules added, removed, re-weighted or rewritten,
the threshold, and the parts left out."""

from __future__ import annotations

from dataclasses import dataclass

from leadgate.definition.model import Definition


@dataclass(frozen=True)
class Change:
    kind: str  # "added", "removed", "points", "changed", "threshold", "hard rule", "path", "note"
    subject: str
    before: str = ""
    after: str = ""

    def __str__(self) -> str:
        mark = {"added": "+", "removed": "-"}.get(self.kind, "~")
        if self.kind == "note":
            return f"! {self.subject}"
        arrow = f"{self.before} -> {self.after}" if self.before and self.after else self.before or self.after
        return f"{mark} {self.subject}: {arrow}" if arrow else f"{mark} {self.subject}"


def _points(x: float) -> str:
    return f"{x:+g}"


def _body(rule: object) -> str:
    dump = rule.model_dump(exclude={"id", "points", "description", "group"}, exclude_none=True)  # type: ignore[attr-defined]
    return str(sorted(dump.items()))


def diff_definitions(before: Definition, after: Definition, notes: list[str] | None = None) -> list[Change]:
    """What changes from ``before`` to ``after``, rule by rule, in the order of ``after`` then removals."""
    out: list[Change] = []
    old = {r.id: r for r in before.rules}
    new = {r.id: r for r in after.rules}
    for rule_id, rule in new.items():
        kind = "fit" if rule in after.fit else "engagement"
        prior = old.get(rule_id)
        if prior is None:
            out.append(Change("added", f"{kind} {rule_id}", after=_points(rule.points)))
        elif _body(prior) != _body(rule):
            out.append(Change("changed", f"{kind} {rule_id}", _points(prior.points), _points(rule.points)))
        elif prior.points != rule.points:
            out.append(Change("points", f"{kind} {rule_id}", _points(prior.points), _points(rule.points)))
    for rule_id, rule in old.items():
        if rule_id not in new:
            kind = "fit" if rule in before.fit else "engagement"
            out.append(Change("removed", f"{kind} {rule_id}", before=_points(rule.points)))
    qb, qa = before.qualify, after.qualify
    for name in ("threshold", "min_fit", "min_engagement"):
        b, a = getattr(qb, name), getattr(qa, name)
        if b != a:
            out.append(
                Change(
                    "threshold", f"qualify.{name}", "none" if b is None else f"{b:g}", "none" if a is None else f"{a:g}"
                )
            )
    for key in ("require", "disqualify"):
        kept = {h.reason for h in getattr(after, key)}
        for h in getattr(before, key):
            if h.reason not in kept:
                out.append(Change("hard rule", f"{key} {h.reason}", "removed"))
    kept_paths = {p.name for p in qa.paths}
    for p in qb.paths:
        if p.name not in kept_paths:
            out.append(Change("path", f"path {p.name}", "removed"))
    out += [Change("note", n) for n in notes or []]
    return out
