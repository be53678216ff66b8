"""The proposed definition: YAML a person can read, edit and push, with a comment saying where every
number came from.  It is validated by the definition loader before anyone sees it.

Rules come in this order: the current definition's own rules (new points, or 0 when a kept path or hard
rule still names them), then traits (most influential first, levels in order; neighbouring number bins with
the same points merged into one interval), then events, then interactions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from leadgate.calibrate.candidates import Candidate, Ids, interval_condition, interval_label, interval_suffix
from leadgate.calibrate.current import Current
from leadgate.calibrate.points import Points
from leadgate.definition.loader import parse_definition
from leadgate.definition.model import Definition, SignalCond, walk

ENGAGEMENT_KEYS = ("event", "where", "within", "min_count", "per", "half_life", "cap", "product")


@dataclass
class Stats:
    """What the training leads say about one candidate, for its comment."""

    share: float  # of training leads for whom it holds (non-zero feature)
    rate: float  # of those, the share that converted


@dataclass
class ProposedRule:
    id: str
    kind: str
    data: dict[str, Any]  # the rule as YAML data
    points: float
    comment: str
    source: str
    members: list[int] = field(default_factory=list)  # candidate positions it stands for


#: What YAML reads as a line break (YAML 1.1: NEL, LS and PS too).
BREAKS = "\n\r\x85\u2028\u2029"


def flow(value: Any) -> str:
    """One YAML value on one line (flow style); characters YAML reads as line breaks are escaped."""
    for unicode in (True, False):
        text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, allow_unicode=unicode, width=1_000_000)
        text = text.strip(" \n")  # not str.strip(): a trailing no-break space belongs to the value
        if text.endswith("\n..."):
            text = text[: -len("\n...")].strip(" \n")
        elif text.endswith("..."):
            text = text[:-3].strip(" \n")
        if not any(c in text for c in BREAKS) and _reads_back(text, value):
            break
    return text


def _reads_back(text: str, value: Any) -> bool:
    try:
        return bool(yaml.safe_load(text) == value)
    except yaml.YAMLError:  # e.g. a lone "=" is PyYAML's value tag
        return False


def _odds(weight: float) -> str:
    return f"odds x{math.exp(weight):.2f}"


def _signals(current: Current, carried: Mapping[str, Any]) -> set[str]:
    """Rule ids the kept hard rules and paths still name (``{signal: id}``)."""
    named: set[str] = set()
    defn = current.definition
    kept_reasons = {r["reason"] for key in ("require", "disqualify") for r in carried.get(key, [])}
    kept_paths = {p["name"] for p in carried.get("paths", [])}
    conds = [h.when for h in (*defn.require, *defn.disqualify) if h.reason in kept_reasons]
    conds += [p.when for p in defn.qualify.paths if p.name in kept_paths]
    for cond in conds:
        for node in walk(cond):
            if isinstance(node, SignalCond):
                named.add(node.signal)
    return named


def build_rules(
    current: Current,
    carried: Mapping[str, Any],
    candidates: Sequence[Candidate],
    points: Points,
    stats: Sequence[Stats],
    ids: Ids,
) -> list[ProposedRule]:
    """Every rule of the proposal, in file order, each with its comment."""
    named = _signals(current, carried)
    own_raw = {r["id"]: r for kind in ("fit", "engagement") for r in current.raw.get(kind) or []}
    rules: list[ProposedRule] = []
    for i, c in enumerate(candidates):
        if c.source != "definition":
            continue
        p = float(points.points[i])
        if p == 0 and c.id not in named:
            continue
        raw = own_raw[c.id]
        data = {"id": c.id, **{k: v for k, v in raw.items() if k not in ("id", "points", "group", "cap")}}
        if "cap" in raw and p != 0:
            data["cap"] = _number(abs(p) * float(raw["cap"]) / c.unit)
        data["points"] = _number(p)
        was = raw.get("points", 0)
        if p == 0:
            comment = f"was {_number(was)} points; weight ~0 (kept at 0: a path or hard rule names it)"
        else:
            comment = (
                f"was {_number(was)} points; weight {points.weights[i]:+.3f} per unit ({_odds(points.weights[i])})"
            )
        comment += _share(stats[i])
        rules.append(ProposedRule(c.id, c.kind, data, p, comment, c.source, [i]))
    rules += _trait_rules(candidates, points, stats, ids)
    rules += _plain_rules(candidates, points, stats, "event")
    rules += _plain_rules(candidates, points, stats, "interaction")
    return rules


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(float(x), 6)


def _share(s: Stats) -> str:
    return f"; {s.share:.1%} of training leads, {s.rate:.0%} of them converted"


def _trait_rules(
    candidates: Sequence[Candidate], points: Points, stats: Sequence[Stats], ids: Ids
) -> list[ProposedRule]:
    by_block: dict[str, list[int]] = {}
    for i, c in enumerate(candidates):
        if c.source == "trait" and c.block is not None:
            by_block.setdefault(c.block, []).append(i)
    groups: list[tuple[float, list[ProposedRule]]] = []
    for block, members in by_block.items():
        ordered = sorted(
            (i for i in members if candidates[i].order is not None), key=lambda i: candidates[i].order or 0
        )
        others = [i for i in members if candidates[i].order is None]
        out: list[ProposedRule] = []
        run: list[int] = []
        for i in ordered:
            if run and points.points[i] != points.points[run[0]]:
                out += _level_rule(candidates, points, stats, run, ids)
                run = []
            run.append(i)
        if run:
            out += _level_rule(candidates, points, stats, run, ids)
        for i in others:
            out += _level_rule(candidates, points, stats, [i], ids)
        ref = points.references.get(block)
        if out and ref is not None:  # the level shifted to 0 points, noted once per trait
            out[0].comment += f"; 0 points: {candidates[ref].label}"
        weight = max((abs(r.points) for r in out), default=0.0)
        if out:
            groups.append((weight, out))
    groups.sort(key=lambda g: -g[0])
    return [r for _, rs in groups for r in rs]


def _level_rule(
    candidates: Sequence[Candidate], points: Points, stats: Sequence[Stats], run: list[int], ids: Ids
) -> list[ProposedRule]:
    p = float(points.points[run[0]])
    if p == 0:
        return []
    first, last = candidates[run[0]], candidates[run[-1]]
    if len(run) == 1:
        rule_id, when, label = first.id, first.rule["when"], first.label
    else:
        assert first.interval is not None and last.interval is not None
        low, high = first.interval[0], last.interval[1]
        rule_id = ids.make(first.field, interval_suffix(low, high)) if (low, high) != (None, None) else first.id
        when, label = interval_condition(first.field, low, high), interval_label(first.field, low, high)
    share = sum(stats[i].share for i in run)
    rate = sum(stats[i].share * stats[i].rate for i in run) / share if share else 0.0
    w = float(np.average([points.weights[i] for i in run], weights=[max(stats[i].share, 1e-12) for i in run]))
    comment = f"{label}: weight {w:+.3f} ({_odds(w)})" + _share(Stats(share, rate))
    if len(run) > 1:
        comment += f"; {len(run)} neighbouring bins merged"
    return [ProposedRule(rule_id, "fit", {"id": rule_id, "when": when, "points": _number(p)}, p, comment, "trait", run)]


def _plain_rules(
    candidates: Sequence[Candidate], points: Points, stats: Sequence[Stats], source: str
) -> list[ProposedRule]:
    out: list[tuple[tuple[Any, ...], ProposedRule]] = []
    weight_of: dict[str, float] = {}
    for i, c in enumerate(candidates):
        p = float(points.points[i])
        if c.source != source or p == 0:
            continue
        data = {"id": c.id, **c.rule, "points": _number(p)}
        comment = f"{c.label}: weight {points.weights[i]:+.3f} ({_odds(points.weights[i])})" + _share(stats[i])
        rule = ProposedRule(c.id, c.kind, data, p, comment, source, [i])
        weight_of[c.field] = max(weight_of.get(c.field, 0.0), abs(p))
        out.append(((c.field, i), rule))
    out.sort(key=lambda x: (-weight_of[x[0][0]], x[0][0], x[0][1]))
    return [r for _, r in out]


def version_after(version: int | str) -> int | str:
    return version + 1 if isinstance(version, int) else f"{version}-calibrated"


def percentiles(values: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Grade or level cut-offs at these quantiles; when every lead has the same value (no rules of that
    kind), one point above it, so nobody is graded up for nothing."""
    if values.size == 0 or float(np.ptp(values)) == 0:
        top = float(values.max()) + 1 if values.size else 1.0
        return [top for _ in qs]
    return [float(np.floor(np.quantile(values, q) + 1e-9)) for q in qs]


def render(
    current: Current,
    carried: Mapping[str, Any],
    rules: Sequence[ProposedRule],
    threshold: float,
    header: Sequence[str],
    grades: Sequence[float],
    levels: Sequence[float],
    threshold_comment: str,
    description: str,
) -> str:
    """The proposal as YAML text with comments."""
    defn = current.definition
    lines = [f"# {line}" if line else "#" for line in header]
    lines += [
        "schema: 1",
        f"name: {defn.name}",
        f"version: {flow(version_after(defn.version))}",
        f"description: {flow(description)}",
    ]
    for key in ("lists", "decay"):
        if key in carried:
            lines.append(yaml.safe_dump({key: carried[key]}, sort_keys=False, allow_unicode=True).rstrip())
    for kind in ("fit", "engagement"):
        chosen = [r for r in rules if r.kind == kind]
        if not chosen:
            continue
        lines.append("")
        lines.append(f"{kind}:")
        for r in chosen:
            lines.append(f"  # {r.comment}")
            items = list(r.data.items())
            key, value = items[0]
            lines.append(f"  - {key}: {flow(value)}")
            lines += [f"    {k}: {flow(v)}" for k, v in items[1:]]
    for key in ("require", "disqualify"):
        if key in carried:
            lines.append("")
            lines.append(f"# {key}: as in {current.label}")
            lines.append(f"{key}:")
            lines += [f"  - {flow(rule)}" for rule in carried[key]]
    lines.append("")
    lines.append("qualify:")
    lines.append(f"  # {threshold_comment}")
    lines.append(f"  threshold: {flow(_number(threshold))}")
    if "paths" in carried:
        lines.append(f"  # paths: as in {current.label}")
        lines.append("  paths:")
        lines += [f"    - {flow(p)}" for p in carried["paths"]]
    lines.append("# grades and levels: the 90th, 75th and 50th percentiles of the training leads' fit and engagement")
    lines.append(f"grades: {flow({'A': _number(grades[0]), 'B': _number(grades[1]), 'C': _number(grades[2])})}")
    lines.append(f"levels: {flow({1: _number(levels[0]), 2: _number(levels[1]), 3: _number(levels[2])})}")
    return "\n".join(lines) + "\n"


def validate(text: str, out_dir: Path | None, name: str = "<proposed>") -> Definition:
    """Load the proposal through the definition loader (raises DefinitionError, which would be a bug)."""
    return parse_definition(text, filename=name, base_dir=out_dir or Path.cwd())


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
