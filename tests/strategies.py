"""Hypothesis strategies: random valid definitions and datasets aimed at the edges of the semantics
(window boundaries, events exactly at T and after it, NULLs, hostile strings, ties at thresholds)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from leadgate.definition.model import Definition
from leadgate.inputs.dataset import TS_TYPE, Dataset

BASE_T = 1_761_955_200.0  # 2025-11-01T00:00:00Z
HOUR, DAY = 3600.0, 86400.0
EVIL = "x'); DROP TABLE leads; --"

# Text pools: ASCII (so case folding is the same everywhere), plus hostile and LIKE-special strings.
TITLES = ["VP Sales", "vp marketing", "Director of IT", "Intern", "", "CEO", EVIL, "100%_off", "a\\b", "zoë"]
COUNTRIES = ["US", "us", "GB", "DE", "IN", "", "X'Y"]
DOMAINS = ["acme.com", "uni.edu", "ox.ac.uk", "gmail.com", "rival.io", "edu", "x.EDU"]
INDUSTRIES = ["software", "Software", "fintech", "retail", "edu"]
PATHS = ["/pricing", "/pricing/teams", "/Pricing", "/careers", "/blog/x", "/integrations", "", "/a%b_c", "/" + EVIL]
PLANS = ["free", "pro", "Pro", "team"]
NUMBERS = [0, 1, 2.5, 10, 50, 250, -3, 1000]
REGEXES = [
    "^vp",
    "(director|vp)",
    "sales$",
    "[0-9]+",
    "^$",
    "a.c",
    "[a-z]{3}",
    "^(x|y)*$",
    "'\\)",
    "%",
    "\\.edu$",
    "o+",
]
WINDOWS = ["1h", "1d", "7d", "30d", None]
HALF_LIVES = [None, "none", "1h", "1d", "7d", "30d"]

STRING_FIELDS = {"title": TITLES, "country": COUNTRIES, "email_domain": DOMAINS, "account.industry": INDUSTRIES}
NUMBER_FIELDS = {"visits": NUMBERS, "account.employees": NUMBERS}
BOOL_FIELDS = {"is_partner": [True, False]}
EVENTS = {
    "page_view": {"path": PATHS, "seconds": NUMBERS},
    "email_open": {},
    "demo_request": {},
    "trial_started": {"plan": PLANS},
}
PROPERTY_POOLS = {"path": PATHS, "seconds": NUMBERS, "plan": PLANS}
#: Model names in predictions: one a definition never reads, one hostile.
MODELS = ["sql_model", "m'; DROP TABLE predictions; --", "unread"]
PROBABILITIES = [0.0, 0.25, 0.5, 0.6, 0.75, 1.0]


def _string_pred(draw: Any, key: str, name: str, pool: list[str]) -> dict[str, Any]:
    op = draw(
        st.sampled_from(
            [
                "equals",
                "not_equals",
                "in",
                "not_in",
                "matches",
                "starts_with",
                "ends_with",
                "contains",
                "exists",
                "missing",
            ]
        )
    )
    pred: dict[str, Any] = {key: name}
    if op in ("exists", "missing"):
        pred[op] = True
        return pred
    if op == "matches":
        pred[op] = draw(st.sampled_from(REGEXES))
    elif op in ("in", "not_in"):
        pred[op] = draw(st.lists(st.sampled_from(pool), max_size=3, unique=True))
    elif op in ("starts_with", "ends_with", "contains"):
        values = [v[:3] for v in pool if v] + [v[-4:] for v in pool if v]
        pred[op] = draw(st.one_of(st.sampled_from(values), st.lists(st.sampled_from(values), min_size=1, max_size=2)))
    else:
        pred[op] = draw(st.sampled_from(pool))
    if draw(st.booleans()) and draw(st.booleans()):
        pred["ignore_case"] = True
    return pred


def _number_pred(draw: Any, key: str, name: str, pool: list[float]) -> dict[str, Any]:
    op = draw(
        st.sampled_from(
            ["equals", "not_equals", "in", "not_in", "between", "gt", "gte", "lt", "lte", "exists", "missing"]
        )
    )
    pred: dict[str, Any] = {key: name}
    if op in ("exists", "missing"):
        pred[op] = True
    elif op == "between":
        pred[op] = sorted(draw(st.lists(st.sampled_from(pool), min_size=2, max_size=2)))
    elif op in ("in", "not_in"):
        pred[op] = draw(st.lists(st.sampled_from(pool), max_size=3, unique=True))
    else:
        pred[op] = draw(st.sampled_from(pool))
    return pred


@st.composite
def trait_predicates(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["string", "string", "number", "bool"]))
    if kind == "string":
        name = draw(st.sampled_from(sorted(STRING_FIELDS)))
        return _string_pred(draw, "trait", name, STRING_FIELDS[name])
    if kind == "number":
        name = draw(st.sampled_from(sorted(NUMBER_FIELDS)))
        return _number_pred(draw, "trait", name, NUMBER_FIELDS[name])
    op = draw(st.sampled_from(["equals", "not_equals", "exists", "missing", "in"]))
    if op in ("exists", "missing"):
        return {"trait": "is_partner", op: True}
    if op == "in":
        return {"trait": "is_partner", "in": [True]}
    return {"trait": "is_partner", op: draw(st.booleans())}


@st.composite
def event_matches(draw: Any) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(sorted(EVENTS)), min_size=1, max_size=2, unique=True))
    props = sorted({p for n in names for p in EVENTS[n]})
    where = []
    for _ in range(draw(st.integers(0, min(2, len(props))))):
        prop = draw(st.sampled_from(props))
        pool = PROPERTY_POOLS[prop]
        if prop == "seconds":
            where.append(_number_pred(draw, "property", prop, pool))  # type: ignore[arg-type]
        else:
            where.append(_string_pred(draw, "property", prop, pool))  # type: ignore[arg-type]
    spec: dict[str, Any] = {"event": names[0] if len(names) == 1 else names, "where": where}
    window = draw(st.sampled_from(WINDOWS))
    if window:
        spec["within"] = window
    if draw(st.booleans()):
        spec["min_count"] = draw(st.integers(1, 3))
    return spec


def _predicted() -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(
        st.sampled_from(MODELS[:2]), st.sampled_from(["gte", "gt", "lte", "lt"]), st.sampled_from(PROBABILITIES)
    ).map(lambda t: {"predicted": t[0], t[1]: t[2]})


def _account_terms() -> st.SearchStrategy[dict[str, Any]]:
    engagement = st.tuples(st.sampled_from(["gte", "gt", "lte", "lt"]), st.sampled_from([0, 5, 10, 25, 40])).map(
        lambda t: {"score": "account_engagement", t[0]: t[1]}
    )
    return st.one_of(st.booleans().map(lambda b: {"account_qualified": b}), engagement)


def conditions(rule_ids: list[str], depth: int = 2, account: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    leaves: list[st.SearchStrategy[dict[str, Any]]] = [trait_predicates(), event_matches(), _predicted()]
    if account:
        leaves.append(_account_terms())
    if rule_ids:
        leaves.append(st.sampled_from(rule_ids).map(lambda r: {"signal": r}))
    leaves.append(
        st.tuples(
            st.sampled_from(["fit", "engagement", "total"]),
            st.sampled_from(["gte", "gt", "lte", "lt"]),
            st.sampled_from([0, 10, 15, 25, 40]),
        ).map(lambda t: {"score": t[0], t[1]: t[2]})
    )
    leaf = st.one_of(*leaves)
    if depth == 0:
        return leaf
    sub = conditions(rule_ids, depth - 1, account)
    return st.one_of(
        leaf,
        st.lists(sub, min_size=1, max_size=3).map(lambda cs: {"all": cs}),
        st.lists(sub, min_size=1, max_size=3).map(lambda cs: {"any": cs}),
        sub.map(lambda c: {"not": c}),
    )


def _fit_condition() -> st.SearchStrategy[dict[str, Any]]:
    leaf = trait_predicates()
    return st.one_of(
        leaf, st.lists(leaf, min_size=1, max_size=2).map(lambda cs: {"any": cs}), leaf.map(lambda c: {"not": c})
    )


@st.composite
def definition_dicts(draw: Any) -> dict[str, Any]:
    n_fit = draw(st.integers(0, 3))
    n_eng = draw(st.integers(0, 4))
    groups: dict[str, Any] = {}
    fit_group = "gfit" if draw(st.booleans()) else None
    eng_group = "geng" if draw(st.booleans()) else None
    if fit_group:
        groups[fit_group] = {"cap": draw(st.sampled_from([5, 20, 30]))}
    if eng_group:
        groups[eng_group] = {"cap": draw(st.sampled_from([5, 20, 30]))}
    fit = []
    for i in range(n_fit):
        rule: dict[str, Any] = {
            "id": f"f{i}",
            "when": draw(_fit_condition()),
            "points": draw(st.sampled_from([-50, -5, 5, 10, 15, 2.5])),
        }
        if fit_group and draw(st.booleans()):
            rule["group"] = fit_group
        fit.append(rule)
    engagement = []
    for i in range(n_eng):
        rule = {"id": f"e{i}", **draw(event_matches()), "points": draw(st.sampled_from([-20, -1, 1, 5, 10, 25, 7.5]))}
        if draw(st.booleans()):
            rule["per"] = draw(st.sampled_from(["once", "occurrence"]))
        if draw(st.booleans()):
            rule["cap"] = draw(st.sampled_from([3, 10, 40]))
        half_life = draw(st.sampled_from(HALF_LIVES))
        if half_life is not None:
            rule["half_life"] = half_life
        if eng_group and draw(st.booleans()):
            rule["group"] = eng_group
        if draw(st.booleans()) and draw(st.booleans()):
            rule["product"] = True
        engagement.append(rule)
    if draw(st.booleans()):
        # a short half-life over the whole history: events months old weigh (almost) nothing, or exactly 0
        old = {"id": f"e{n_eng}", "event": draw(st.sampled_from(sorted(EVENTS))), "half_life": "1h"}
        engagement.append({**old, "points": draw(st.sampled_from([-20, 1, 7.5]))})
    ids = [r["id"] for r in fit + engagement]
    account: dict[str, Any] | None = None
    if draw(st.booleans()):
        account = {}
        if draw(st.booleans()):
            account["threshold"] = draw(st.sampled_from([0, 5, 10, 25, 40]))
        if "threshold" not in account or draw(st.booleans()):
            account["min_engaged_leads"] = draw(st.integers(1, 3))
        engaged_at = draw(st.sampled_from([None, -5, 0, 1, 10]))
        if engaged_at is not None:
            account["engaged_at"] = engaged_at
    hard = conditions(ids, depth=1, account=account is not None)
    require = [{"reason": f"rq{i}", "when": draw(hard)} for i in range(draw(st.integers(0, 2)))]
    disqualify = [{"reason": f"dq{i}", "when": draw(hard)} for i in range(draw(st.integers(0, 2)))]
    qualify: dict[str, Any] = {}
    if draw(st.booleans()):
        qualify["threshold"] = draw(st.sampled_from([0, 5, 10, 25, 40, 100]))
    if draw(st.booleans()):
        qualify["min_fit"] = draw(st.sampled_from([0, 10, 15]))
    if draw(st.booleans()):
        qualify["min_engagement"] = draw(st.sampled_from([0, 1, 10]))
    with_account = conditions(ids, account=account is not None)
    paths = [{"name": f"p{i}", "when": draw(with_account)} for i in range(draw(st.integers(0, 2)))]
    if paths or not qualify:
        qualify["paths"] = paths or [{"name": "p0", "when": draw(with_account)}]
    d: dict[str, Any] = {
        "schema": 1,
        "name": "generated",
        "version": 1,
        "fit": fit,
        "engagement": engagement,
        "groups": groups,
        "require": require,
        "disqualify": disqualify,
        "qualify": qualify,
        "grades": {"A": 20, "B": 10, "C": 5},
        "levels": {"1": 25, "2": 10, "3": 1},
    }
    if account is not None:
        d["account"] = account
    default_half_life = draw(st.sampled_from([*HALF_LIVES[2:], None]))
    if default_half_life:
        d["decay"] = {"half_life": default_half_life}
    return d


def definitions() -> st.SearchStrategy[Definition]:
    return definition_dicts().map(Definition.model_validate)


def as_ofs() -> st.SearchStrategy[float]:
    return st.sampled_from([BASE_T, BASE_T + 0.5, BASE_T + 0.123456])


# Offsets before T (seconds): window boundaries exactly, just inside/outside, at T, after T.
OFFSETS = [
    0.0,
    1e-6,
    1.0,
    HOUR,
    HOUR - 1e-6,
    HOUR + 1e-6,
    DAY,
    3 * DAY,
    7 * DAY,
    30 * DAY,
    30 * DAY + 1,
    45 * DAY,
    1000 * HOUR,  # exactly the half-lives beyond which a 1h half-life weighs 0
    60 * DAY,
    400 * DAY,
    -1.0,
    -DAY,
]
LEAD_IDS = ["a", "b", "c", "d", "L-10", "L-9", EVIL, "Ünïcode", "x\\y", "e e"]


def _ts(t: float) -> int:
    return round(t * 1_000_000)


@st.composite
def datasets(draw: Any, defn: Definition | None = None, as_of: float = BASE_T) -> Dataset:
    """Leads, accounts and events around ``BASE_T`` (window edges are hit for as_of == BASE_T; other
    as-of values move every edge by a fraction of a second)."""
    lead_ids = draw(st.lists(st.sampled_from(LEAD_IDS), min_size=1, max_size=8, unique=True))
    n = len(lead_ids)

    def column(pool: list[Any]) -> list[Any]:
        return draw(st.lists(st.sampled_from([*pool, None]), min_size=n, max_size=n))

    created = [None if c is None else _ts(as_of - c) for c in column([DAY, 0.0, -1.0, -DAY])]
    emails = column(["x@" + d for d in DOMAINS] + ["bad-email"])
    leads = pa.table({
        "lead_id": pa.array(lead_ids, pa.string()),
        "email": pa.array(emails, pa.string()),
        "email_domain": pa.array([e.split("@", 1)[1].lower() if e and "@" in e else None for e in emails], pa.string()),
        "account_id": pa.array(column(["acc1", "acc2", "nope"]), pa.string()),
        "created_at": pa.array(created, pa.int64()).cast(TS_TYPE),
        "title": pa.array(column(TITLES), pa.string()),
        "country": pa.array(column(COUNTRIES), pa.string()),
        "visits": pa.array(column(NUMBERS), pa.float64()),
        "is_partner": pa.array(column([True, False]), pa.bool_()),
    })  # fmt: skip
    accounts = pa.table({
        "account_id": pa.array(["acc1", "acc2"], pa.string()),
        "industry": pa.array(draw(st.lists(st.sampled_from([*INDUSTRIES, None]), min_size=2, max_size=2)), pa.string()),
        "employees": pa.array(draw(st.lists(st.sampled_from([*NUMBERS, None]), min_size=2, max_size=2)), pa.float64()),
    })  # fmt: skip
    owners = [*lead_ids, *lead_ids, "ghost"]
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(owners),
                st.sampled_from(sorted(EVENTS)),
                st.sampled_from(OFFSETS),
                st.sampled_from([*PATHS, None]),
                st.sampled_from([*NUMBERS, None]),
                st.sampled_from([*PLANS, None]),
            ),
            min_size=4,
            max_size=50,
        )
    )
    events = pa.table({
        "lead_id": pa.array([r[0] for r in rows], pa.string()),
        "event": pa.array([r[1] for r in rows], pa.string()),
        "ts": pa.array([_ts(BASE_T - r[2]) for r in rows], pa.int64()).cast(TS_TYPE),
        "path": pa.array([r[3] for r in rows], pa.string()),
        "seconds": pa.array([r[4] for r in rows], pa.float64()),
        "plan": pa.array([r[5] for r in rows], pa.string()),
    })  # fmt: skip
    scored = draw(
        st.lists(
            st.tuples(
                st.sampled_from(owners),
                st.sampled_from(MODELS),
                st.sampled_from(PROBABILITIES),
                st.sampled_from([0.0, 1e-6, HOUR, DAY, -1.0]),  # repeats make ties at one instant
            ),
            min_size=2,
            max_size=20,
        )
    )
    predictions = pa.table({
        "lead_id": pa.array([r[0] for r in scored], pa.string()),
        "model": pa.array([r[1] for r in scored], pa.string()),
        "probability": pa.array([r[2] for r in scored], pa.float64()),
        "scored_at": pa.array([_ts(as_of - r[3]) for r in scored], pa.int64()).cast(TS_TYPE),
    })  # fmt: skip
    return Dataset(leads=leads, events=events, accounts=accounts, predictions=predictions)
