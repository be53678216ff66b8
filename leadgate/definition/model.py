"""Typed model of an MQL definition.

The YAML loader (``loader.py``) validates a document into these pydantic models; the compiler and the
reference evaluator consume them.  Semantics are written down in ``docs/semantics.md``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic import Strict as StrictMode
from pydantic.json_schema import SkipJsonSchema

from leadgate.definition.durations import MAX_SECONDS, MIN_SECONDS, check_duration, parse_duration
from leadgate.definition.regex import check_portable_regex

SCHEMA_VERSION = 1
IDENT = r"^[a-z][a-z0-9_]{0,39}$"
#: Column names the input tables reserve; a definition may not use them as trait or property names.
RESERVED_LEAD_COLUMNS = frozenset({"lead_id", "account_id", "created_at"})
RESERVED_EVENT_COLUMNS = frozenset({"lead_id", "event", "ts", "message_id"})

Scalar = Union[bool, int, float, str]
Ident = Annotated[str, Field(pattern=IDENT)]


class Strict(BaseModel):
    """The base of every model read from YAML: unknown keys refused, and no coercion between types (a number
    is not read from text, ``true`` is not 1, a whole number is not read from ``2.0``; a whole number may
    stand for a number), and no infinite or NaN number."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True, allow_inf_nan=False)


#: A strict number for the items of a pair that YAML writes as a list (``between: [1, 5]``): the pair is
#: validated leniently, as strict mode accepts only a tuple there, and its items strictly.
Number = Annotated[float, StrictMode()]


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '7d', '12h', '30m' or '90s'")
    if isinstance(value, (int, float)):
        if value <= 0:
            raise ValueError("a duration must be positive")
        return check_duration(float(value))
    raise ValueError("expected a duration such as '7d', '12h', '30m' or '90s'")


#: What a duration looks like in a YAML file (the JSON Schema describes the input, not the float it becomes).
_DURATION_JSON: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*[smhdwSMHDW]\s*)+$"},
        {"type": "number", "minimum": MIN_SECONDS, "maximum": MAX_SECONDS},
    ],
    "description": "A duration: '90s', '30m', '12h', '7d', '2w', combined ('1d12h'), or a number of seconds; "
    "at most 100 years.",
}

#: A duration in seconds; YAML accepts "7d", "12h", "30m", "90s", "2w" or a number of seconds.
Duration = Annotated[float, BeforeValidator(_duration), WithJsonSchema(_DURATION_JSON, mode="validation")]


def _half_life(value: Any) -> Any:
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return 0.0
    return _duration(value)


#: Beyond this many half-lives an event weighs 0 (docs/semantics.md, "Time"): its weight would be below
#: 2^-1000 (about 1e-301), where engines part ways (PostgreSQL raises an underflow error on a result below
#: the smallest double, also when multiplying such a weight by a rule's points; the others round to 0).
MAX_HALF_LIVES = 1000

#: A half-life in seconds; ``none`` (stored as 0) switches decay off for a rule.
HalfLife = Annotated[
    float,
    BeforeValidator(_half_life),
    WithJsonSchema(
        {
            "anyOf": [*_DURATION_JSON["anyOf"], {"type": "string", "pattern": r"^\s*[nN][oO][nN][eE]\s*$"}],
            "description": "A half-life (a duration), or 'none' for no decay.",
        },
        mode="validation",
    ),
]


class ListRef(Strict):
    """A reference to a named list in ``lists:``; the loader resolves it into ``values``."""

    list: str
    values: SkipJsonSchema[tuple[Scalar, ...]] = Field(default=(), strict=False)  # filled by the loader


ValueList = Union[ListRef, list[Scalar]]
StrList = Union[ListRef, str, list[str]]

OPS = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "between",
    "gt",
    "gte",
    "lt",
    "lte",
    "matches",
    "exists",
    "missing",
    "starts_with",
    "ends_with",
    "contains",
)
NUMERIC_OPS = frozenset({"between", "gt", "gte", "lt", "lte"})
STRING_OPS = frozenset({"matches", "starts_with", "ends_with", "contains"})


class Predicate(Strict):
    """A test on one field: a lead trait, an account trait (``account.x``) or an event property.

    Exactly one operator is given.  A missing value (NULL) fails every operator except ``missing``.
    """

    trait: str | None = None
    prop: str | None = Field(default=None, alias="property")
    equals: Scalar | None = None
    not_equals: Scalar | None = None
    in_: ValueList | None = Field(default=None, alias="in")
    not_in: ValueList | None = None
    between: tuple[Number, Number] | None = Field(default=None, strict=False)
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    matches: str | None = None
    exists: Literal[True] | None = None
    missing: Literal[True] | None = None
    starts_with: StrList | None = None
    ends_with: StrList | None = None
    contains: StrList | None = None
    ignore_case: bool = False

    @model_validator(mode="after")
    def _one_op(self) -> Predicate:
        if (self.trait is None) == (self.prop is None):
            raise ValueError("give exactly one of 'trait' or 'property'")
        given = [op for op in OPS if getattr(self, "in_" if op == "in" else op) is not None]
        if len(given) != 1:
            found = ", ".join(given) if given else "none"
            raise ValueError(f"give exactly one operator of {', '.join(OPS)}; found {found}")
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError("between: the lower bound is above the upper bound")
        if self.matches is not None:
            check_portable_regex(self.matches)
        if self.ignore_case and self.op not in ("equals", "not_equals", "in", "not_in", *STRING_OPS):
            raise ValueError(f"ignore_case does not apply to '{self.op}'")
        if self.ignore_case and self.value_kind not in (None, "string"):
            raise ValueError("ignore_case applies to text values only")
        return self

    @property
    def field(self) -> str:
        return self.trait if self.trait is not None else self.prop  # type: ignore[return-value]

    @property
    def op(self) -> str:
        for op in OPS:
            if getattr(self, "in_" if op == "in" else op) is not None:
                return op
        raise AssertionError("validated predicate has no operator")

    @property
    def value(self) -> Any:
        """The operand, with list references resolved and single strings widened to tuples."""
        raw = getattr(self, "in_" if self.op == "in" else self.op)
        if isinstance(raw, ListRef):
            return raw.values
        if self.op in ("in", "not_in", "starts_with", "ends_with", "contains"):
            return (raw,) if isinstance(raw, str) else tuple(raw)
        return raw

    @property
    def value_kind(self) -> str | None:
        """'number', 'string', 'boolean' or None (any): what type the field must hold."""
        op = self.op
        if op in NUMERIC_OPS:
            return "number"
        if op in STRING_OPS:
            return "string"
        if op in ("exists", "missing"):
            return None
        values = self.value if op in ("in", "not_in") else (self.value,)
        kinds = {_kind(v) for v in values}
        if len(kinds) > 1:
            raise ValueError(f"{op}: mixes values of types {sorted(kinds)}")
        return kinds.pop() if kinds else None


def _kind(value: Scalar) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


class EventCond(Strict):
    """At least ``min_count`` events named ``event`` matching ``where`` within the window (T - within, T]."""

    event: Union[str, list[str]]
    where: list[Predicate] = []
    within: Duration | None = None
    min_count: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _props_only(self) -> EventCond:
        for pred in self.where:
            if pred.prop is None:
                raise ValueError("'where' tests event properties: use 'property:', not 'trait:'")
        return self

    @property
    def events(self) -> tuple[str, ...]:
        return (self.event,) if isinstance(self.event, str) else tuple(self.event)


class SignalCond(Strict):
    """A scoring rule fired: a fit rule matched, or an engagement rule met its ``min_count``."""

    signal: str


class _Comparison(Strict):
    """One of ``gte``, ``gt``, ``lte``, ``lt`` (declared by the subclass with its bounds)."""

    @model_validator(mode="after")
    def _one_op(self) -> _Comparison:
        if sum(getattr(self, k) is not None for k in ("gte", "gt", "lte", "lt")) != 1:
            raise ValueError("give exactly one of gte, gt, lte, lt")
        return self

    @property
    def op(self) -> str:
        return next(k for k in ("gte", "gt", "lte", "lt") if getattr(self, k) is not None)

    @property
    def value(self) -> float:
        return float(getattr(self, self.op))


class ScoreCond(_Comparison):
    """A comparison on a score; compared with a tolerance of 1e-9 (see the semantics).

    ``account_engagement`` is the summed engagement of the lead's account (the ``account:`` section); it is
    missing for a lead without an account, and a comparison on a missing value is false."""

    score: Literal["fit", "engagement", "total", "account_engagement"]
    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None


class AccountQualifiedCond(Strict):
    """The lead's account qualifies (``true``) or does not (``false``), by the ``account:`` section.

    A lead without an account is in no qualified account."""

    account_qualified: bool


Probability = Annotated[float, Field(ge=0, le=1)]


class PredictedCond(_Comparison):
    """A comparison on a model's predicted probability of the outcome, exact (no tolerance): the latest
    prediction of that model scored at or before T.  A lead without one fails the comparison."""

    predicted: str = Field(min_length=1, max_length=200)  # any text: it reaches SQL only as a string literal
    gte: Probability | None = None
    gt: Probability | None = None
    lte: Probability | None = None
    lt: Probability | None = None


class AllCond(Strict):
    all: list[Condition] = Field(min_length=1)


class AnyCond(Strict):
    any: list[Condition] = Field(min_length=1)


class NotCond(Strict):
    not_: Condition = Field(alias="not")


_COND_KEYS: dict[str, type[BaseModel]] = {
    "all": AllCond,
    "any": AnyCond,
    "not": NotCond,
    "event": EventCond,
    "signal": SignalCond,
    "score": ScoreCond,
    "account_qualified": AccountQualifiedCond,
    "predicted": PredictedCond,
    "trait": Predicate,
}


def _dispatch(value: Any) -> Any:
    """Pick the condition model by its leading key, so errors speak of one shape, not a union."""
    if isinstance(value, BaseModel):
        return value
    if not isinstance(value, dict):
        raise ValueError(f"a condition is a mapping with one of the keys {', '.join(_COND_KEYS)}")
    keys = [k for k in _COND_KEYS if k in value]
    if len(keys) != 1:
        found = ", ".join(map(str, value)) or "nothing"
        raise ValueError(f"a condition needs exactly one of the keys {', '.join(_COND_KEYS)}; found {found}")
    return _COND_KEYS[keys[0]].model_validate(value)


Condition = Annotated[
    Union[AllCond, AnyCond, NotCond, EventCond, SignalCond, ScoreCond, AccountQualifiedCond, PredictedCond, Predicate],
    BeforeValidator(_dispatch),
]
AllCond.model_rebuild()
AnyCond.model_rebuild()
NotCond.model_rebuild()


class FitRule(Strict):
    """Points when a condition on lead and account traits holds (no events, no decay)."""

    id: Ident
    when: Condition
    points: float
    group: Ident | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _traits_only(self) -> FitRule:
        for node in walk(self.when):
            if not isinstance(node, (Predicate, AllCond, AnyCond, NotCond)):
                raise ValueError("a fit rule tests traits only; use an engagement rule for events")
        return self


class EngagementRule(Strict):
    """Points for matching events: per occurrence or once, in a window, capped, decayed."""

    id: Ident
    event: Union[str, list[str]]
    where: list[Predicate] = []
    points: float
    per: Literal["occurrence", "once"] = "occurrence"
    within: Duration | None = None
    min_count: int = Field(default=1, ge=1)
    cap: float | None = Field(default=None, gt=0)
    half_life: HalfLife | None = None
    group: Ident | None = None
    product: bool = False
    description: str | None = None

    @model_validator(mode="after")
    def _props_only(self) -> EngagementRule:
        for pred in self.where:
            if pred.prop is None:
                raise ValueError("'where' tests event properties: use 'property:', not 'trait:'")
        return self

    @property
    def events(self) -> tuple[str, ...]:
        return (self.event,) if isinstance(self.event, str) else tuple(self.event)

    @property
    def match(self) -> EventCond:
        """The event condition this rule counts (window and min_count included)."""
        return EventCond(event=self.event, where=self.where, within=self.within, min_count=self.min_count)


class Group(Strict):
    cap: float = Field(gt=0)
    description: str | None = None


class HardRule(Strict):
    reason: Ident
    when: Condition
    description: str | None = None


class QualifyPath(Strict):
    """A named rule combination that qualifies a lead on its own."""

    name: Ident
    when: Condition
    description: str | None = None


class Qualify(Strict):
    """How a lead qualifies: the score path (threshold and minimums) OR any named path."""

    threshold: float | None = None
    min_fit: float | None = None
    min_engagement: float | None = None
    paths: list[QualifyPath] = []

    @model_validator(mode="after")
    def _something(self) -> Qualify:
        if not self.paths and self.threshold is None and self.min_fit is None and self.min_engagement is None:
            raise ValueError("give a threshold, a minimum on fit or engagement, or at least one path")
        return self

    @property
    def has_score_path(self) -> bool:
        return self.threshold is not None or self.min_fit is not None or self.min_engagement is not None


class AccountRollup(Strict):
    """Account-level engagement: the engagement of the account's leads summed, and when the account
    qualifies (a threshold on that sum and/or a minimum number of engaged leads)."""

    threshold: float | None = None
    min_engaged_leads: int | None = Field(default=None, ge=1)
    engaged_at: float | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _something(self) -> AccountRollup:
        if self.threshold is None and self.min_engaged_leads is None:
            raise ValueError("give a threshold on the account's engagement, min_engaged_leads, or both")
        return self


class Grades(Strict):
    """Fit grade A-D: A at or above ``A``, B at or above ``B``, C at or above ``C``, else D."""

    A: float = 40
    B: float = 25
    C: float = 10


class Levels(Strict):
    """Engagement level 1-4: 1 at or above ``l1`` (hottest), then 2, 3, else 4."""

    l1: float = Field(default=60, alias="1")
    l2: float = Field(default=35, alias="2")
    l3: float = Field(default=15, alias="3")


class ListFile(Strict):
    file: str


class Decay(Strict):
    half_life: HalfLife | None = None


class Definition(Strict):
    """An MQL definition: fit and engagement scoring, hard rules, and how a lead qualifies."""

    schema_: Literal[1] = Field(alias="schema")
    name: Ident
    version: Union[int, str]
    description: str | None = None
    lists: dict[Ident, Union[list[Scalar], ListFile]] = {}
    decay: Decay = Decay()
    fit: list[FitRule] = []
    engagement: list[EngagementRule] = []
    groups: dict[Ident, Group] = {}
    require: list[HardRule] = []
    disqualify: list[HardRule] = []
    account: AccountRollup | None = None
    qualify: Qualify
    grades: Grades = Grades()
    levels: Levels = Levels()

    @model_validator(mode="after")
    def _cross_checks(self) -> Definition:
        ids = [r.id for r in self.fit] + [r.id for r in self.engagement]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"rule ids must be unique; repeated: {', '.join(dupes)}")
        for kind, rules in (("fit", self.fit), ("engagement", self.engagement)):
            for rule in rules:
                if rule.group is not None and rule.group not in self.groups:
                    raise ValueError(f"rule '{rule.id}' names group '{rule.group}', which 'groups' does not define")
                other = self.engagement if kind == "fit" else self.fit
                if rule.group is not None and any(o.group == rule.group for o in other):
                    raise ValueError(f"group '{rule.group}' mixes fit and engagement rules")
        for kind, hard_rules in (("require", self.require), ("disqualify", self.disqualify)):
            reasons = [h.reason for h in hard_rules]
            if len(set(reasons)) != len(reasons):
                raise ValueError(f"{kind}: reason codes must be unique")
        names = [p.name for p in self.qualify.paths]
        if len(set(names)) != len(names) or "score" in names:
            raise ValueError("qualify.paths: names must be unique and not 'score'")
        known = set(ids)
        for cond in self.all_conditions():
            for node in walk(cond):
                if isinstance(node, SignalCond) and node.signal not in known:
                    raise ValueError(f"signal '{node.signal}' names no fit or engagement rule")
                if self.account is None and _is_account_term(node):
                    term = "account_qualified" if isinstance(node, AccountQualifiedCond) else "account_engagement"
                    raise ValueError(f"'{term}' needs an 'account:' section (threshold and/or min_engaged_leads)")
        for pred in self.predicates():
            name = pred.field
            reserved = RESERVED_EVENT_COLUMNS if pred.prop is not None else RESERVED_LEAD_COLUMNS
            if name in reserved or (name.startswith("account.") and name[8:] in {"account_id"}):
                raise ValueError(f"'{name}' is a reserved column and cannot be tested")
        self.field_types()  # raises on a field used with two types
        return self

    @property
    def version_str(self) -> str:
        return str(self.version)

    @property
    def rules(self) -> list[FitRule | EngagementRule]:
        return [*self.fit, *self.engagement]

    def rule(self, rule_id: str) -> FitRule | EngagementRule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def half_life(self, rule: EngagementRule) -> float:
        """Seconds; 0 means no decay."""
        if rule.half_life is not None:
            return rule.half_life
        return self.decay.half_life or 0.0

    def all_conditions(self) -> list[Condition]:
        conds: list[Condition] = [r.when for r in self.fit]
        conds += [r.match for r in self.engagement]
        conds += [h.when for h in (*self.require, *self.disqualify)]
        conds += [p.when for p in self.qualify.paths]
        return conds

    def predicates(self) -> list[Predicate]:
        out: list[Predicate] = []
        for cond in self.all_conditions():
            for node in walk(cond):
                if isinstance(node, Predicate):
                    out.append(node)
                elif isinstance(node, EventCond):
                    out.extend(node.where)
        return out

    def field_types(self) -> dict[tuple[str, str], str | None]:
        """(table, column) -> expected kind, for every field the definition reads.

        table is 'leads', 'accounts' or 'events'.  Raises ValueError if one field is used as two types.
        """
        types: dict[tuple[str, str], str | None] = {}
        for pred in self.predicates():
            key = field_key(pred)
            kind = pred.value_kind
            prior = types.get(key)
            if prior is not None and kind is not None and prior != kind:
                raise ValueError(f"'{pred.field}' is tested both as a {prior} and as a {kind}")
            types[key] = kind if kind is not None else prior
        return types

    @property
    def uses_account(self) -> bool:
        """Whether scoring rolls engagement up to accounts (the ``account:`` section is given)."""
        return self.account is not None

    def models(self) -> list[str]:
        """The names of the models whose predictions the definition reads, sorted."""
        return sorted({n.predicted for c in self.all_conditions() for n in walk(c) if isinstance(n, PredictedCond)})

    def event_names(self) -> set[str]:
        names: set[str] = set()
        for cond in self.all_conditions():
            for node in walk(cond):
                if isinstance(node, EventCond):
                    names.update(node.events)
        return names


def field_key(pred: Predicate) -> tuple[str, str]:
    """Which input table and column a predicate reads."""
    if pred.prop is not None:
        return ("events", pred.prop)
    name = pred.field
    if name.startswith("account."):
        return ("accounts", name[len("account.") :])
    return ("leads", name)


def _is_account_term(node: Any) -> bool:
    return isinstance(node, AccountQualifiedCond) or (
        isinstance(node, ScoreCond) and node.score == "account_engagement"
    )


def walk(cond: Any) -> list[Any]:
    """Every node of a condition tree, depth first, the root first."""
    out = [cond]
    if isinstance(cond, AllCond):
        for c in cond.all:
            out.extend(walk(c))
    elif isinstance(cond, AnyCond):
        for c in cond.any:
            out.extend(walk(c))
    elif isinstance(cond, NotCond):
        out.extend(walk(cond.not_))
    return out


def slug(text: str) -> str:
    """A safe column-name fragment for free text (event names in generated candidate rules)."""
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")[:40] or "x"
