"""Candidate signals: every rule calibration may give points to, written as definition rules.

A candidate is a rule of the definition language worth one point (``points: 1``), so its contribution in a
scoring run *is* the feature: calibration reads features from the compiled SQL's contributions, and a
proposed rule with ``points: P`` contributes exactly ``P`` times that feature.  Candidates are:

- the current definition's own rules (fit and engagement, ``source="definition"``);
- traits, binned (``source="trait"``): numbers into quantile intervals ``[low, high)``, text into its most
  common values plus ``other``, booleans into true / false; a missing value is a level of its own.  The
  levels of one trait form a *block*: exactly one of them holds for every lead;
- events (``source="event"``): for each event name (and each common value of a text property of it), at
  least ``m`` events in the last 7, 30 or 90 days or ever, for a few thresholds ``m`` taken from the
  training leads' counts;
- interactions (``source="interaction"``, ``interactions.py``): cells of two coarsely binned traits.

Bins, values and thresholds come from the *training* leads only, so the held-out split never shapes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY = 86_400.0
#: The standard windows of event candidates: (label, seconds or None for ever).
WINDOWS: tuple[tuple[str, float | None], ...] = (("7d", 7 * DAY), ("30d", 30 * DAY), ("90d", 90 * DAY), ("all", None))
#: Windows for event candidates filtered on a property value (fewer: they multiply quickly).
PROPERTY_WINDOWS: tuple[tuple[str, float | None], ...] = (("30d", 30 * DAY), ("all", None))
#: Count thresholds beyond 1: these quantiles of the counts of leads with at least one event.
COUNT_QUANTILES = (0.5, 0.75, 0.9)
IDENT_MAX = 40

Source = Literal["definition", "trait", "event", "interaction"]


@dataclass(frozen=True)
class Candidate:
    """One candidate signal, as the rule it would be in a definition (worth one point).

    ``rule`` is the rule's YAML data without ``id`` and ``points``: ``{"when": ...}`` for a fit rule, the
    engagement keys (``event``, ``where``, ``within``, ``min_count``, ``per``, ``half_life``) otherwise.
    ``block`` names a set of candidates of which exactly one holds for every lead (a trait's levels);
    ``order`` ranks the ordered ones (number bins, low to high; ``None`` for missing / other).
    ``interval`` is a number bin's ``[low, high)`` (None for an open end), for merging neighbours.
    ``unit`` is, for the current definition's own rules, the size of the points the rule had: its cap is
    divided by it, so the candidate is the rule at one point.
    """

    id: str
    kind: Literal["fit", "engagement"]
    rule: dict[str, Any]
    label: str
    source: Source
    field: str = ""
    block: str | None = None
    order: int | None = None
    interval: tuple[float | None, float | None] | None = None
    unit: float = 1.0


@dataclass(frozen=True)
class Limits:
    """How finely to cut the data into candidates."""

    max_bins: int = 20
    max_levels: int = 30
    min_support: int = 20  # leads, at least; raised to ``min_share`` of the training leads when larger
    min_share: float = 0.005
    max_property_values: int = 8
    max_property_cardinality: int = 50
    max_thresholds: int = 4

    def support(self, n: int) -> int:
        return max(self.min_support, int(np.ceil(self.min_share * n)))


@dataclass
class Ids:
    """Rule ids: lower case, digits and underscores, at most 40 characters, unique."""

    taken: set[str] = field(default_factory=set)

    def make(self, *parts: str) -> str:
        base = "_".join(p for p in (slug(x) for x in parts) if p) or "x"
        if not base[0].isalpha():
            base = "x_" + base
        base = base[:IDENT_MAX].rstrip("_")
        name, n = base, 1
        while name in self.taken:
            n += 1
            suffix = f"_{n}"
            name = base[: IDENT_MAX - len(suffix)].rstrip("_") + suffix
        self.taken.add(name)
        return name


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")


def show(value: Any) -> str:
    """A number or value as a person would write it in a label."""
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e15 else repr(value)
    return str(value)


# -- traits --------------------------------------------------------------------------------------------
def trait_candidates(
    name: str, column: pa.ChunkedArray | pa.Array, kind: str, ids: Ids, limits: Limits
) -> list[Candidate]:
    """The levels of one trait over the training leads (``column``), or nothing when it cannot vary."""
    n = len(column)
    support = limits.support(n)
    missing = int(column.null_count)
    if kind == "number":
        levels = _number_levels(name, column, ids, limits, support)
    elif kind == "boolean":
        levels = _boolean_levels(name, column, ids, support)
    else:
        levels = _text_levels(name, column, ids, limits, support)
    if missing:
        levels.append(_level(ids, name, {"trait": name, "missing": True}, f"{name}: missing", "missing"))
    return levels if len(levels) >= 2 else []


def _level(
    ids: Ids,
    name: str,
    when: dict[str, Any],
    label: str,
    suffix: str,
    order: int | None = None,
    interval: tuple[float | None, float | None] | None = None,
) -> Candidate:
    return Candidate(
        id=ids.make(name, suffix),
        kind="fit",
        rule={"when": when},
        label=label,
        source="trait",
        field=name,
        block=f"trait:{name}",
        order=order,
        interval=interval,
    )


def _number_levels(
    name: str, column: pa.ChunkedArray | pa.Array, ids: Ids, limits: Limits, support: int
) -> list[Candidate]:
    values = np.asarray(pc.drop_null(column).to_numpy(zero_copy_only=False), dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return []
    edges = number_edges(values, limits.max_bins, support)
    out: list[Candidate] = []
    bounds = [None, *edges, None]
    for i in range(len(bounds) - 1):
        low, high = bounds[i], bounds[i + 1]
        out.append(
            _level(ids, name, interval_condition(name, low, high), interval_label(name, low, high),
                   interval_suffix(low, high), order=i, interval=(low, high))
        )  # fmt: skip
    return out if len(out) >= 2 else []


def number_edges(values: np.ndarray, max_bins: int, support: int) -> list[float]:
    """Cut points (each an observed value) giving at most ``max_bins`` bins ``[edge, next)`` of at least
    ``support`` values each: every distinct value when there are few, else quantiles."""
    values = np.sort(values)
    distinct = np.unique(values)
    if distinct.size <= max_bins:
        cuts = distinct[1:]
    else:
        qs = np.linspace(0, 1, max_bins + 1)[1:-1]
        cuts = np.unique(np.quantile(values, qs, method="inverted_cdf"))
        cuts = cuts[cuts > distinct[0]]
    kept: list[float] = []
    start = 0
    for cut in cuts:
        pos = int(np.searchsorted(values, cut, side="left"))
        if pos - start >= support and values.size - pos >= support:
            kept.append(float(cut))
            start = pos
    return kept


def interval_condition(name: str, low: float | None, high: float | None) -> dict[str, Any]:
    if low is None and high is None:
        return {"trait": name, "exists": True}
    if low is None:
        return {"trait": name, "lt": high}
    if high is None:
        return {"trait": name, "gte": low}
    return {"all": [{"trait": name, "gte": low}, {"trait": name, "lt": high}]}


def interval_label(name: str, low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return f"{name}: any value"
    if low is None:
        return f"{name} < {show(high)}"
    if high is None:
        return f"{name} ≥ {show(low)}"
    return f"{name} in [{show(low)}, {show(high)})"


def interval_suffix(low: float | None, high: float | None) -> str:
    if low is None:
        return f"lt_{show(high)}"
    if high is None:
        return f"gte_{show(low)}"
    return f"{show(low)}_to_{show(high)}"


def _boolean_levels(name: str, column: pa.ChunkedArray | pa.Array, ids: Ids, support: int) -> list[Candidate]:
    out = []
    for value in (True, False):
        count = int(pc.sum(pc.equal(column, pa.scalar(value))).as_py() or 0)
        if count:
            word = "true" if value else "false"
            out.append(_level(ids, name, {"trait": name, "equals": value}, f"{name} = {word}", word))
    return out


def _text_levels(
    name: str, column: pa.ChunkedArray | pa.Array, ids: Ids, limits: Limits, support: int
) -> list[Candidate]:
    counts = pc.value_counts(pc.drop_null(column)).to_pylist()
    ranked = sorted(((str(c["values"]), int(c["counts"])) for c in counts), key=lambda x: (-x[1], x[0]))
    top = [v for v, c in ranked if c >= support][: limits.max_levels]
    rest = sum(c for v, c in ranked if v not in set(top))
    out = [_level(ids, name, {"trait": name, "equals": v}, f"{name} = {v}", v) for v in top]
    if rest:
        when: dict[str, Any] = {"trait": name, "not_in": top} if top else {"trait": name, "exists": True}
        out.append(_level(ids, name, when, f"{name}: other value", "other"))
    return out


# -- events ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventData:
    """The training leads' events up to the as-of instant, as arrays."""

    lead: np.ndarray  # index of the lead in the training population
    name: np.ndarray  # event name (object array of str)
    age: np.ndarray  # seconds before the as-of instant
    properties: Mapping[str, np.ndarray]  # text property columns (object arrays, None when missing)
    n_leads: int


def event_candidates(events: EventData, ids: Ids, limits: Limits) -> list[Candidate]:
    """Counts of each event name (and of each common value of its text properties) in the standard windows,
    at thresholds the training leads reach."""
    support = limits.support(events.n_leads)
    out: list[Candidate] = []
    for name in sorted(set(events.name.tolist())):
        is_name = events.name == name
        if np.unique(events.lead[is_name]).size < support:
            continue
        out += _count_candidates(events, is_name, name, [], WINDOWS, ids, limits, support)
        for prop, values in sorted(events.properties.items()):
            present = values[is_name]
            present = present[present != np.array(None)]
            distinct = set(present.tolist())
            if not distinct or len(distinct) > limits.max_property_cardinality:
                continue
            by_leads = []
            for value in distinct:
                mask = is_name & (values == value)
                by_leads.append((np.unique(events.lead[mask]).size, str(value)))
            by_leads.sort(key=lambda x: (-x[0], x[1]))
            for count, value in by_leads[: limits.max_property_values]:
                if count < support:
                    continue
                mask = is_name & (values == value)
                where = [{"property": prop, "equals": value}]
                out += _count_candidates(events, mask, name, where, PROPERTY_WINDOWS, ids, limits, support)
    return out


def _count_candidates(
    events: EventData,
    mask: np.ndarray,
    name: str,
    where: list[dict[str, Any]],
    windows: Sequence[tuple[str, float | None]],
    ids: Ids,
    limits: Limits,
    support: int,
) -> list[Candidate]:
    out: list[Candidate] = []
    what = name + "".join(f" ({w['property']} = {w['equals']})" for w in where)
    for label, seconds in windows:
        inside = mask if seconds is None else mask & (events.age < seconds)
        counts = np.bincount(events.lead[inside], minlength=events.n_leads)
        for m in count_thresholds(counts, limits.max_thresholds, support):
            rule: dict[str, Any] = {"event": name}
            if where:
                rule["where"] = where
            if seconds is not None:
                rule["within"] = label
            rule.update({"min_count": m, "per": "once", "half_life": "none"})
            when = "ever" if seconds is None else f"in {label}"
            parts = [name, *(w["equals"] for w in where), label, f"{m}plus"]
            out.append(
                Candidate(
                    id=ids.make(*parts),
                    kind="engagement",
                    rule=rule,
                    label=f"{what} ≥ {m} {when}",
                    source="event",
                    field=name,
                )
            )
    return out


def count_thresholds(counts: np.ndarray, max_thresholds: int, support: int) -> list[int]:
    """1, then the quantiles of the positive counts, each reached by at least ``support`` leads."""
    positive = counts[counts > 0]
    if positive.size < support:
        return []
    found = [1]
    for q in COUNT_QUANTILES:
        m = int(np.quantile(positive, q, method="inverted_cdf"))
        if m > found[-1] and int((positive >= m).sum()) >= support:
            found.append(m)
    return found[:max_thresholds]


# -- the current definition's own rules ------------------------------------------------------------------
def own_candidates(raw: Mapping[str, Any], ids: Ids) -> list[Candidate]:
    """The current definition's fit and engagement rules as candidates worth one point: a cap is scaled
    by the same factor, and a rule's group (a cap over several rules, not linear) is left out."""
    out: list[Candidate] = []
    for kind in ("fit", "engagement"):
        for rule in raw.get(kind) or []:
            body = {k: v for k, v in rule.items() if k not in ("id", "points", "group", "description")}
            unit = abs(float(rule.get("points", 0))) or 1.0
            if "cap" in body:
                if float(rule.get("points", 0)) == 0:
                    del body["cap"]
                else:
                    body["cap"] = float(body["cap"]) / unit
            ids.taken.add(rule["id"])
            out.append(
                Candidate(
                    id=rule["id"],
                    kind=kind,  # type: ignore[arg-type]
                    rule=body,
                    label=str(rule.get("description") or rule["id"]),
                    source="definition",
                    field=rule["id"],
                    unit=unit,
                )
            )
    return out


def blocks(candidates: Iterable[Candidate]) -> dict[str, list[int]]:
    """Block name -> the positions of its members, in order."""
    out: dict[str, list[int]] = {}
    for i, c in enumerate(candidates):
        if c.block is not None:
            out.setdefault(c.block, []).append(i)
    return out
