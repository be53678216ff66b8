"""Calibration end to end: outcomes → labels as of T → split → candidates → features from the compiled SQL
→ L1 logistic model → integer points → threshold → proposed YAML → held-out report.  It writes nothing and
activates nothing: the caller decides what to do with the proposal.

The steps are separate functions so the evaluation script (``bench/bench_calibration.py``) can run the same
path on its own cross-validation folds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.model_selection import train_test_split

from leadgate.calibrate import features as feat
from leadgate.calibrate.candidates import (
    Candidate,
    EventData,
    Ids,
    Limits,
    event_candidates,
    own_candidates,
    trait_candidates,
)
from leadgate.calibrate.current import Current
from leadgate.calibrate.diff import Change, diff_definitions
from leadgate.calibrate.interactions import interaction_candidates
from leadgate.calibrate.model import CS, Fit, fit
from leadgate.calibrate.outcomes import Labels, Outcomes, label
from leadgate.calibrate.points import (
    POINTS_TO_DOUBLE,
    Points,
    capacity_threshold,
    precision_logit,
    qualifies,
    to_points,
)
from leadgate.calibrate.proposal import ProposedRule, Stats, build_rules, percentiles, render, validate
from leadgate.calibrate.report import DAY, Metrics, Report, iso, measure
from leadgate.definition.model import Definition
from leadgate.errors import CalibrationError
from leadgate.inputs.dataset import Dataset

WEEK = 7 * DAY
#: Traits never used as signals unless asked for: who a person is by name or contact detail is no reason to
#: call them (and a model would only learn noise, or worse, a proxy for origin).  ``--include`` overrides.
PERSONAL = frozenset({
    "first_name", "last_name", "name", "full_name", "firstname", "lastname", "phone", "mobile", "address",
    "street", "zip", "postal_code", "ip", "email_domain", "account.name", "account.domain", "account.phone",
    "account.address",
})  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """Everything calibration can be told; see ``leadgate calibrate --help`` and docs/calibration.md."""

    outcome: str = "sql"
    as_of: float | None = None
    horizon: float | None = 30 * DAY
    capacity: float | None = None  # MQLs per week
    target_precision: float | None = None
    test_size: float = 0.25
    seed: int = 7
    points_to_double: float = POINTS_TO_DOUBLE
    interactions: int = 0
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()  # personal traits to use anyway (see PERSONAL)
    weeks: float | None = None  # how many weeks the data covers, when leads have no created_at
    limits: Limits = field(default_factory=Limits)
    Cs: tuple[float, ...] = CS
    threads: int = 2

    def __post_init__(self) -> None:
        if self.capacity is not None and self.target_precision is not None:
            raise CalibrationError("give --capacity or --target-precision, not both")
        if self.capacity is not None and self.capacity <= 0:
            raise CalibrationError(f"--capacity must be positive; found {self.capacity:g}")
        if self.target_precision is not None and not 0 < self.target_precision < 1:
            raise CalibrationError(f"--target-precision must be between 0 and 1; found {self.target_precision:g}")
        if not 0 < self.test_size < 1:
            raise CalibrationError(f"--test-size must be between 0 and 1; found {self.test_size:g}")


@dataclass
class Population:
    """The typed data and who calibration learns from, as of T."""

    data: Dataset
    kinds: feat.Kinds
    labels: Labels
    weeks: float | None
    notes: list[str]
    outcome: str

    def per_week(self, subset: int) -> float | None:
        """MQLs counted on ``subset`` leads -> MQLs per week over the whole population."""
        if self.weeks is None or subset == 0:
            return None
        return len(self.labels.lead_ids) / (subset * self.weeks)


def _epoch_seconds(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    micros = pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False)
    return np.asarray(micros, dtype=float) / 1e6  # NaN where null


def latest_instant(data: Dataset, outcomes: Outcomes) -> float | None:
    """The last instant anything in the data happened (events, lead creation, outcomes)."""
    found: list[float] = []
    if data.events is not None and data.events.num_rows:
        found.append(float(np.nanmax(_epoch_seconds(data.events.column("ts")))))
    if "created_at" in data.leads.column_names and data.leads.column("created_at").null_count < data.leads.num_rows:
        found.append(float(np.nanmax(_epoch_seconds(data.leads.column("created_at")))))
    if outcomes.at is not None and np.isfinite(outcomes.at).any():
        found.append(float(np.nanmax(outcomes.at)))
    return max(found) if found else None


def population(current: Current, data: Dataset, outcomes: Outcomes, settings: Settings) -> Population:
    notes: list[str] = []
    kinds = feat.infer_kinds(data, current.definition.field_types())
    typed = feat.typed(data, kinds)
    end = latest_instant(typed, outcomes)
    if settings.as_of is not None:
        as_of = settings.as_of
    elif end is not None:
        as_of = end - (settings.horizon or 0.0) if outcomes.at is not None else end
    else:
        as_of = math.floor(datetime.now(UTC).timestamp())
    if outcomes.at is not None and end is not None and settings.horizon is not None and as_of + settings.horizon > end:
        notes.append(
            f"the data ends at {iso(end)}, before the end of the outcome window ({iso(as_of + settings.horizon)}): "
            "later conversions are not seen"
        )
    leads = typed.leads
    ids = [str(x) for x in leads.column("lead_id").to_pylist()]
    created = (
        _epoch_seconds(leads.column("created_at")) if "created_at" in leads.column_names else np.full(len(ids), np.nan)
    )
    labels = label(ids, created, outcomes, as_of, settings.horizon if outcomes.at is not None else None)
    notes += labels.notes
    keep = {lead: i for i, lead in enumerate(ids)}
    born = created[[keep[lead] for lead in labels.lead_ids]] if labels.lead_ids else np.array([])
    weeks = settings.weeks
    if weeks is None and born.size and np.isfinite(born).any():
        weeks = max((as_of - float(np.nanmin(born))) / WEEK, 1.0)
    return Population(typed, kinds, labels, weeks, notes, outcomes.outcome)


#: Converted (and not converted) training leads below which calibration refuses: a model fitted on fewer
#: learns noise, and a proposal from it would look precise without being so.
MIN_TRAINING = 20


def split(pop: Population, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out positions: split by lead, stratified on the label.  Refuses (a clear error)
    when the training leads hold fewer than ``MIN_TRAINING`` converted or not converted leads."""
    y = pop.labels.y
    positives, negatives = int(y.sum()), int((~y).sum())
    train: np.ndarray = np.zeros(0, dtype=np.int64)
    test: np.ndarray = np.zeros(0, dtype=np.int64)
    if min(positives, negatives) >= 2:
        positions = np.arange(y.size)
        train, test = train_test_split(positions, test_size=settings.test_size, stratify=y, random_state=settings.seed)
    for what, count, in_training in (
        ("converted", positives, int(y[train].sum())),
        ("not converted", negatives, int((~y[train]).sum())),
    ):
        if in_training < MIN_TRAINING:
            needed = math.ceil(MIN_TRAINING / (1 - settings.test_size))
            raise CalibrationError(
                f"too few {what} leads to learn from: {in_training} in the training split ({count} of "
                f"{y.size:,} leads as of {iso(pop.labels.as_of)}, --test-size {settings.test_size:g}); at least "
                f"{MIN_TRAINING} are needed (about {needed} {what} leads in all); use more data, a longer "
                "--horizon or an earlier --as-of"
            )
    return np.sort(train), np.sort(test)


# -- candidates --------------------------------------------------------------------------------------------
def _traits(pop: Population, rows: np.ndarray, exclude: set[str]) -> list[tuple[str, pa.Array, str]]:
    """(trait name as a definition writes it, its values for the given leads, kind)."""
    leads = pop.data.leads
    position = {str(v): i for i, v in enumerate(leads.column("lead_id").to_pylist())}
    take = pa.array([position[pop.labels.lead_ids[r]] for r in rows], pa.int64())
    out: list[tuple[str, pa.Array, str]] = []
    for (table, column), kind in sorted(pop.kinds.items()):
        if table == "leads" and column in leads.column_names and column not in exclude:
            out.append((column, pc.take(leads.column(column), take), kind))
    accounts = pop.data.accounts
    if accounts is not None and accounts.num_rows and "account_id" in leads.column_names:
        where = pc.index_in(pc.take(leads.column("account_id"), take), value_set=accounts.column("account_id"))
        for (table, column), kind in sorted(pop.kinds.items()):
            name = f"account.{column}"
            if table == "accounts" and column in accounts.column_names and name not in exclude:
                out.append((name, pc.take(accounts.column(column), where), kind))
    return out


def _event_data(pop: Population, rows: np.ndarray, exclude: set[str]) -> EventData:
    events = pop.data.events
    index = {pop.labels.lead_ids[r]: k for k, r in enumerate(rows)}
    empty = EventData(np.zeros(0, np.int64), np.zeros(0, object), np.zeros(0), {}, len(rows))
    if events is None or events.num_rows == 0:
        return empty
    ts = _epoch_seconds(events.column("ts"))
    lead = np.array([index.get(str(x), -1) for x in events.column("lead_id").to_pylist()], dtype=np.int64)
    names = np.array(pc.cast(events.column("event"), pa.string()).to_pylist(), dtype=object)
    keep = (lead >= 0) & (ts <= pop.labels.as_of) & ~np.isin(names, list(exclude))
    props = {
        column: np.array(events.column(column).to_pylist(), dtype=object)[keep]
        for (table, column), kind in pop.kinds.items()
        if table == "events" and kind == "string" and column in events.column_names
    }
    return EventData(lead[keep], names[keep], pop.labels.as_of - ts[keep], props, len(rows))


def candidates_for(
    current: Current, pop: Population, train: np.ndarray, settings: Settings, ids: Ids
) -> list[Candidate]:
    """The candidate signals, shaped by the training leads only."""
    exclude = set(settings.exclude) | (PERSONAL - set(settings.include))
    out = own_candidates(current.raw, ids)
    for name, values, kind in _traits(pop, train, exclude):
        out += trait_candidates(name, values, kind, ids, settings.limits)
    out += event_candidates(_event_data(pop, train, exclude), ids, settings.limits)
    return out


@dataclass
class Learned:
    candidates: list[Candidate]
    X: np.ndarray  # population x candidates
    blocked: np.ndarray
    by_path: np.ndarray
    fit: Fit
    points: Points
    stats: list[Stats]
    considered: dict[str, int]  # candidates by source, before dropping those that never hold
    notes: list[str] = field(default_factory=list)


def features(
    pop: Population, candidates: Sequence[Candidate], carried: dict[str, Any], base_dir: Path | None, threads: int
) -> tuple[np.ndarray, feat.Scored]:
    return feat.candidate_features(
        candidates, carried, pop.data, pop.labels.as_of, pop.labels.lead_ids, base_dir, threads
    )


def learn(
    current: Current, pop: Population, train: np.ndarray, settings: Settings, carried: dict[str, Any], ids: Ids
) -> Learned:
    """Candidates, features, model and points, from the training leads."""
    candidates = candidates_for(current, pop, train, settings, ids)
    X, scored = features(pop, candidates, carried, current.base_dir, settings.threads)
    keep = _useful(X[train], candidates)
    considered: dict[str, int] = {}
    for c in candidates:
        considered[c.source] = considered.get(c.source, 0) + 1
    candidates = [c for c, k in zip(candidates, keep, strict=True) if k]
    X = X[:, keep]
    y = pop.labels.y
    if settings.interactions > 0:
        first = fit(X[train], y[train], candidates, Cs=settings.Cs, seed=settings.seed)
        extra = interaction_candidates(
            candidates, X[train], y[train], first, settings.interactions, ids, settings.limits
        )
        if extra:
            X2, _ = features(pop, extra, carried, current.base_dir, settings.threads)
            useful = _useful(X2[train], extra)
            extra = [c for c, k in zip(extra, useful, strict=True) if k]
            considered["interaction"] = len(useful)
            candidates += extra
            X = np.hstack([X, X2[:, useful]])
    model = fit(X[train], y[train], candidates, Cs=settings.Cs, seed=settings.seed)
    holds = X[train] != 0
    support = holds.sum(axis=0)
    pts = to_points(model, candidates, support, settings.points_to_double)
    notes: list[str] = []
    for weaker in sorted((c for c in settings.Cs if c < model.C), reverse=True):
        if _rules_per_kind(pts, candidates) <= feat.MAX_RULES_PER_KIND:
            break
        notes.append(f"C lowered from {model.C:g} to {weaker:g}: at most {feat.MAX_RULES_PER_KIND} rules of a kind")
        model = fit(X[train], y[train], candidates, seed=settings.seed, C=weaker)
        pts = to_points(model, candidates, support, settings.points_to_double)
    share = holds.mean(axis=0)
    rate = np.divide(
        (holds & y[train, None]).sum(axis=0),
        holds.sum(axis=0),
        out=np.zeros(len(candidates)),
        where=holds.sum(axis=0) > 0,
    )
    stats = [Stats(float(s), float(r)) for s, r in zip(share, rate, strict=True)]
    return Learned(candidates, X, scored.blocked, scored.by_path, model, pts, stats, considered, notes)


def _rules_per_kind(points: Points, candidates: Sequence[Candidate]) -> int:
    """The most rules of one kind a proposal could have (before neighbouring bins merge)."""
    fit_rules = sum(1 for c, p in zip(candidates, points.points, strict=True) if p != 0 and c.kind == "fit")
    return max(fit_rules, int(np.count_nonzero(points.points)) - fit_rules)


def _useful(X: np.ndarray, candidates: Sequence[Candidate]) -> np.ndarray:
    """Candidates worth fitting: all of a trait's levels (a block must cover every lead, or shifting its
    points would move some totals and not others), and any other candidate that holds for some training
    lead without repeating an earlier candidate's column."""
    keep = np.ones(len(candidates), dtype=bool)
    seen: set[bytes] = set()
    for i, c in enumerate(candidates):
        if c.block is not None or c.source == "definition":
            continue
        key = np.ascontiguousarray(X[:, i]).tobytes()
        keep[i] = bool(np.any(X[:, i] != 0)) and key not in seen
        seen.add(key)
    return keep


# -- threshold, proposal, evaluation ----------------------------------------------------------------------
@dataclass
class Threshold:
    value: float
    rule: str
    notes: list[str]


def choose_threshold(
    learned: Learned, pop: Population, train: np.ndarray, settings: Settings, current_label: str, current_mqls: int
) -> Threshold:
    """The threshold, chosen on the training leads: for a precision, on their out-of-fold predictions (in
    sample, the fit itself pushes converted and not converted apart and promises too much); for a volume, on
    their totals in the proposal's own whole points (volume depends little on that, and the cut is exact)."""
    blocked, by_path = learned.blocked[train], learned.by_path[train]
    total = learned.points.total(learned.X[train])
    per_week = pop.per_week(train.size)
    if settings.target_precision is not None:
        cut = precision_logit(learned.fit.oof, pop.labels.y[train], blocked, by_path, settings.target_precision)
        value = learned.points.threshold_for_logit(cut)
        rule = (
            f"the lowest whose precision on the training leads (out of fold) is at least {settings.target_precision:g}"
        )
        return Threshold(value, rule, [])
    if settings.capacity is not None:
        if per_week is None:
            raise CalibrationError(
                "--capacity is per week, but the leads have no created_at to tell how many weeks the data "
                "covers: give --weeks N, or use --target-precision"
            )
        value, notes = capacity_threshold(total, blocked, by_path, per_week, settings.capacity)
        rule = f"the lowest whose expected MQLs per week (training leads) are at most {settings.capacity:g}"
        return Threshold(value, rule, notes)
    if current_mqls == 0:
        raise CalibrationError(
            f"{current_label} qualifies no training lead, so there is no MQL volume to keep: give --capacity "
            "or --target-precision"
        )
    scale = per_week if per_week is not None else len(pop.labels.lead_ids) / train.size
    value, notes = capacity_threshold(total, blocked, by_path, scale, current_mqls * scale)
    unit = "per week" if per_week is not None else "on the training leads"
    rule = f"keeps the MQL volume of {current_label} ({current_mqls * scale:.1f} {unit})"
    return Threshold(value, rule, notes)


@dataclass
class Calibration:
    """A proposal and what was measured; nothing is written or activated."""

    text: str
    proposed: Definition
    current: Current
    changes: list[Change]
    report: Report
    rules: list[ProposedRule]
    lead_ids: list[str]  # the population, in this order below
    y: np.ndarray  # converted after the as-of instant
    train: np.ndarray  # positions of the training leads
    test: np.ndarray  # positions of the held-out leads
    fitted: np.ndarray  # the proposal's total per lead, from the fitted points
    qualified: np.ndarray  # the proposal's MQL decision per lead


def propose(
    current: Current,
    pop: Population,
    learned: Learned,
    train: np.ndarray,
    threshold: Threshold,
    carried: dict[str, Any],
    ids: Ids,
    header: Sequence[str],
    out_dir: Path | None,
) -> tuple[str, Definition, list[ProposedRule]]:
    rules = build_rules(current, carried, learned.candidates, learned.points, learned.stats, ids)
    is_fit = np.array([c.kind == "fit" for c in learned.candidates])
    Xt = learned.X[train]
    fit_total = Xt[:, is_fit] @ learned.points.points[is_fit]
    eng_total = Xt[:, ~is_fit] @ learned.points.points[~is_fit]
    grades = percentiles(fit_total, (0.9, 0.75, 0.5))
    levels = percentiles(eng_total, (0.9, 0.75, 0.5))
    p = float(learned.points.probability(threshold.value))
    comment = f"{threshold.rule}; a total of {threshold.value:g} means a probability of about {p:.1%}"
    description = f"Calibrated from {current.label} for the outcome '{pop.outcome}'"
    text = render(current, carried, rules, threshold.value, header, grades, levels, comment, description)
    return text, validate(text, out_dir), rules


def calibrate(
    current: Current, data: Dataset, outcomes: Outcomes, settings: Settings, out_dir: Path | None = None
) -> Calibration:
    """Learn a proposed definition from outcomes and measure it against the current one on held-out leads."""
    pop = population(current, data, outcomes, settings)
    train, test = split(pop, settings)
    carried = current.carried(out_dir)
    ids = Ids()
    learned = learn(current, pop, train, settings, carried, ids)
    if not np.any(learned.points.points):
        learned.notes.append(
            "WARNING: the model kept no rule: no candidate signal tells converted leads apart on the "
            f"{train.size:,} training leads ({int(pop.labels.y[train].sum()):,} converted); the proposal is "
            "not worth pushing: use more data or another --outcome"
        )
    y = pop.labels.y
    now = feat.score(current.definition, pop.data, pop.labels.as_of, pop.labels.lead_ids, settings.threads)
    threshold = choose_threshold(learned, pop, train, settings, current.label, int(now.qualified[train].sum()))
    fitted = learned.points.total(learned.X)
    proposed_q = qualifies(fitted, threshold.value, learned.blocked, learned.by_path)
    m_current = measure(current.label, now.total[test], now.qualified[test], y[test], pop.per_week(test.size))
    m_proposed = measure("proposed", fitted[test], proposed_q[test], y[test], pop.per_week(test.size))
    header = _header(current, pop, settings, learned, train, test, m_current, m_proposed, threshold)
    text, proposed, rules = propose(current, pop, learned, train, threshold, carried, ids, header, out_dir)
    check = feat.score(proposed, pop.data, pop.labels.as_of, pop.labels.lead_ids, settings.threads)
    difference = float(np.max(np.abs(check.total - fitted), initial=0.0))
    rejected = [f"{len(outcomes.rejected)} outcome row(s) rejected"] if outcomes.rejected else []
    same_decisions = bool(np.array_equal(check.qualified, proposed_q))
    report = Report(
        outcome=outcomes.outcome,
        as_of=pop.labels.as_of,
        horizon=pop.labels.horizon,
        timed=pop.labels.timed,
        population=len(pop.labels.lead_ids),
        positives=int(y.sum()),
        converted_before=pop.labels.converted_before,
        created_after=pop.labels.created_after,
        train=(int(train.size), int(y[train].sum())),
        test=(int(test.size), int(y[test].sum())),
        weeks=pop.weeks,
        candidates=learned.considered,
        rules=len(rules),
        C=learned.fit.C,
        cv=learned.fit.cv,
        folds=learned.fit.folds,
        points_to_double=settings.points_to_double,
        threshold=threshold.value,
        threshold_rule=threshold.rule,
        current=m_current,
        proposed=m_proposed,
        reproduced=difference <= 1e-6 and same_decisions,
        max_difference=difference,
        seed=settings.seed,
        test_size=settings.test_size,
        notes=[*pop.notes, *learned.notes, *threshold.notes, *current.notes, *rejected],
    )
    changes = diff_definitions(current.definition, proposed, current.notes)
    return Calibration(
        text, proposed, current, changes, report, rules, pop.labels.lead_ids, y, train, test, fitted, proposed_q
    )


def _header(
    current: Current,
    pop: Population,
    settings: Settings,
    learned: Learned,
    train: np.ndarray,
    test: np.ndarray,
    m_current: Metrics,
    m_proposed: Metrics,
    threshold: Threshold,
) -> list[str]:
    y = pop.labels.y
    n = sum(learned.considered.values())
    when = f"within {pop.labels.horizon / DAY:g} days after" if pop.labels.horizon else "any time after"
    timing = (
        f"Outcome '{pop.outcome}' {when} {iso(pop.labels.as_of)}; features as of that instant."
        if pop.labels.timed
        else f"Outcome '{pop.outcome}' as recorded (no outcome times); features as of {iso(pop.labels.as_of)}."
    )
    scale = learned.points.scale
    rows = [
        f"  {m.definition:<28} {_f(m.auc, '.3f'):>7}  {_f(m.precision, '.3f'):>9}  {_f(m.recall, '.3f'):>6}  "
        f"{m.mqls:>5}  {_f(m.mqls_per_week, '.1f'):>9}"
        for m in (m_current, m_proposed)
    ]
    return [
        f"Proposed by `leadgate calibrate` on {datetime.now(UTC):%Y-%m-%d} from {current.label} ({current.source}).",
        "Nothing is active: review and edit it, then push it as a new version.",
        timing,
        f"Training: {train.size:,} leads ({int(y[train].sum()):,} converted); held-out: {test.size:,} "
        f"({int(y[test].sum()):,}); split by lead, stratified, seed {settings.seed}.",
        f"Points: L1 logistic regression over {n} candidate signals (C = {learned.fit.C:g} by "
        f"{learned.fit.folds}-fold CV), weights x {scale:.2f}",
        f"  ({settings.points_to_double:g} points double the odds), rounded; rules worth 0 points left out.",
        f"A total of 0 means a probability of about {float(learned.points.probability(0.0)):.1%}; the threshold "
        f"{threshold.value:g} about {float(learned.points.probability(threshold.value)):.1%}.",
        "",
        "Held-out leads:                 ROC AUC  precision  recall   MQLs  MQLs/week",
        *rows,
    ]


def _f(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)
