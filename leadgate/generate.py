"""Deterministic demo data: leads with a latent fit and intent, events driven by them, and outcomes.

Every lead gets two hidden numbers, ``fit`` and ``intent`` (standard normal, correlated 0.45), and three
hidden personas (student, job seeker, competitor).  Fit drives what is observable about who they are: title
seniority, whether they work at an ICP account (industry, size band, target country), business vs free-mail
vs student email (and a few invalid or missing ones).  Intent drives how much they do and what: pricing and
integration pages, downloads, webinars attended live, demo requests, trials and product usage.

Time has structure.  Ordinary activity comes in sessions (a few minutes of page views around an anchor
time), more of it recent for high intent.  Some leads go through a *buying journey*: research (pricing,
integrations, case studies, cart activity) thickens in the days before a moment at which they request a
demo and/or start a trial; product usage follows the trial.  Webinars run on a fortnightly schedule:
registrations before, live attendance on the day, on-demand views after.  Job seekers visit the careers pages
in bursts.

Outcomes (SQL, opportunity, won, revenue) are drawn from a logistic function of the latent variables, so
calibration and backtesting have signal to recover that the observable data only partly reveals.  The same
seed and arguments give the same bytes: numpy's PCG64 generator, no wall clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leadgate.inputs.dataset import TS_TYPE

Format = Literal["csv", "jsonl", "parquet"]

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

# -- vocabularies --------------------------------------------------------------------------------------
# The example definitions (examples/*.yaml) name some of these values; keep them in step.
INDUSTRIES = ("software", "fintech", "healthcare", "retail", "manufacturing", "education", "media", "logistics")
INDUSTRY_WEIGHTS = (0.22, 0.10, 0.12, 0.14, 0.14, 0.08, 0.10, 0.10)
ICP_INDUSTRIES = ("software", "fintech", "healthcare")
ICP_EMPLOYEES = (50, 1000)
TARGET_COUNTRIES = ("US", "CA", "GB", "DE", "FR", "NL", "AU")
OTHER_COUNTRIES = ("IN", "BR", "NG", "PK", "ID", "VN", "MX")
COUNTRIES = TARGET_COUNTRIES + OTHER_COUNTRIES
TLDS = (".com", ".ca", ".co.uk", ".de", ".fr", ".nl", ".com.au", ".in", ".com.br", ".ng", ".pk", ".id", ".vn", ".mx")
SEGMENTS = ("smb", "mid_market", "enterprise")  # employees < 100, 100-999, 1000+
COMPANY_HEADS = ("North", "Blue", "Bright", "Iron", "Silver", "Green", "Open", "Swift", "Clear", "High", "True", "Nova")
COMPANY_TAILS = ("wind", "peak", "stone", "field", "bridge", "line", "path", "wave", "forge", "leaf", "gate", "point")
COMPANY_KINDS = (  # three per industry, in INDUSTRIES order
    "Labs", "Systems", "Software", "Capital", "Pay", "Finance", "Health", "Care", "Medical", "Retail", "Goods",
    "Stores", "Works", "Industries", "Manufacturing", "Learning", "Academy", "Education", "Media", "Studios",
    "Digital", "Logistics", "Freight", "Transport",
)  # fmt: skip

FIRST_NAMES = ("Ada", "Ben", "Chen", "Dana", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lea", "Maya", "Nils",
               "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tomas", "Uma", "Vera", "Wei", "Yara", "Zoe")  # fmt: skip
LAST_NAMES = ("Okafor", "Smith", "Garcia", "Muller", "Kim", "Novak", "Rossi", "Silva", "Tanaka", "Dubois", "Jansen",
              "Kowalski", "Patel", "Haddad", "Larsen", "Moreau", "Nguyen", "Olsen", "Reyes", "Weber")  # fmt: skip
SENIORITIES = ("entry", "individual_contributor", "manager", "director", "vp", "c_level")
TITLES = (
    ("Marketing Assistant", "Sales Development Representative", "Junior Developer", "Associate"),
    ("Marketing Specialist", "Software Engineer", "Data Analyst", "Account Executive", "Operations Analyst"),
    ("Marketing Manager", "Engineering Manager", "Product Manager", "Internal Communications Manager",
     "RevOps Manager"),
    ("Director of Marketing", "Director of Engineering", "Head of Growth", "Head of Revenue Operations",
     "Senior Director, Demand Generation"),
    ("VP Marketing", "VP of Sales", "Vice President, Operations", "SVP Engineering"),
    ("CEO", "CTO", "CFO", "Chief Marketing Officer", "Chief Revenue Officer", "Co-Founder & CEO"),
)  # fmt: skip
STUDENT_TITLES = ("Student", "Graduate Student", "PhD Student", "Research Assistant")
JOB_SEEKER_TITLES = ("Marketing Intern", "Intern", "Recent Graduate", "Open to Work", "Junior Analyst")
FREE_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "proton.me")
STUDENT_DOMAINS = ("stanford.edu", "mit.edu", "umich.edu", "ox.ac.uk", "ucl.ac.uk", "ed.ac.uk")
COMPETITORS = ("rivalcrm.com", "competiq.io", "leadzilla.com")  # examples/lists/competitors.txt
SOURCES = ("organic", "paid_search", "social", "email", "referral", "event")
CAMPAIGNS = (  # by source; "" is no campaign
    ("", "", "seo_blog"),
    ("brand_search", "pricing_retargeting", "competitor_keywords"),
    ("linkedin_abm", "linkedin_ebook", "twitter_launch"),
    ("nurture_welcome", "newsletter", "q3_product_update"),
    ("partner_referral", "customer_referral", ""),
    ("saas_summit_booth", "q2_webinar_series", "roadshow_london"),
)
EMAIL_CAMPAIGNS = ("nurture_welcome", "newsletter", "q3_product_update", "webinar_invite", "case_study_digest")
BLOG_POSTS = ("/blog/lead-scoring-101", "/blog/mql-vs-sql", "/blog/revops-metrics", "/blog/intent-data")
DOCS_PAGES = ("/docs/getting-started", "/docs/api", "/docs/sso")
INTEGRATION_PAGES = ("/integrations", "/integrations/salesforce", "/integrations/hubspot")
CATEGORIES = ("shoes", "jackets", "bags", "accessories", "sale", "new_arrivals")
FEATURES = ("dashboards", "workflows", "api", "integrations", "reports")
WEBINAR_TOPICS = ("pipeline-forecasting", "abm-playbook", "revops-benchmarks", "scoring-masterclass")

#: The latent covariates a log-rate is linear in: 1, intent, fit, job seeker, student.
Coef = tuple[float, float, float, float, float]


@dataclass(frozen=True)
class Channel:
    """A kind of event a lead emits at a Poisson rate ``exp(coef · latent)``.

    ``props`` gives values for property columns; tuples of one length are picked together, one index per
    event.  ``session`` channels run over the lead's life (rate per 90 days); ``journey`` channels only for
    leads with a buying journey, in the days before its moment.
    """

    event: str
    coef: Coef
    mode: Literal["session", "journey"] = "session"
    props: tuple[tuple[str, tuple[str, ...]], ...] = ()
    once: bool = False
    opted_in: bool = False


def _paths(*paths: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return (("path", paths),)


CHANNELS = (
    Channel("page_view", (-0.5, 0.0, 0.0, 0.0, 0.0), props=_paths("/")),
    Channel("page_view", (-0.4, -0.1, 0.0, 0.3, 0.5), props=_paths(*BLOG_POSTS)),
    Channel("page_view", (-1.5, 0.6, 0.1, -1.0, 0.0), props=_paths(*DOCS_PAGES)),
    Channel("page_view", (-2.0, 0.9, 0.2, -1.5, -0.5), props=_paths("/pricing")),
    Channel("page_view", (-3.0, 0.9, 0.6, -2.0, -1.0), props=_paths("/pricing/enterprise")),
    Channel("page_view", (-1.9, 0.7, 0.2, -1.0, 0.0), props=_paths(*INTEGRATION_PAGES)),
    Channel("page_view", (-1.9, 0.5, 0.2, 0.0, 0.0), props=_paths("/case-studies")),
    Channel("page_view", (-3.6, -0.3, 0.0, 0.0, 0.5), props=_paths("/careers")),
    Channel("email_opened", (0.1, 0.3, 0.0, 0.0, 0.0), props=(("campaign", EMAIL_CAMPAIGNS),), opted_in=True),
    Channel("email_clicked", (-0.9, 0.6, 0.0, 0.0, 0.0), props=(("campaign", EMAIL_CAMPAIGNS),), opted_in=True),
    Channel("newsletter_subscribed", (-1.8, 1.0, 0.0, 0.0, 0.3), once=True),
    Channel("unsubscribed", (-2.8, -0.8, 0.0, 0.0, 0.5), once=True, opted_in=True),
    Channel("content_downloaded", (-2.2, 0.8, 0.2, -1.0, -0.5), props=(("asset_type", ("case_study",)),)),
    Channel("content_downloaded", (-1.9, 0.3, 0.0, 0.0, 1.0), props=(("asset_type", ("whitepaper",)),)),
    Channel("content_downloaded", (-1.7, 0.2, 0.0, 0.0, 1.2), props=(("asset_type", ("ebook",)),)),
    Channel("form_submitted", (-2.2, 0.5, 0.0, 0.0, 0.0), props=_paths("/contact", "/newsletter", "/ebook")),
    Channel("category_viewed", (-0.3, 0.7, 0.0, 0.0, 0.0),
            props=(("category", CATEGORIES), ("path", tuple(f"/category/{c}" for c in CATEGORIES)))),
    Channel("added_to_cart", (-1.8, 0.9, 0.0, 0.0, 0.0), props=(("category", CATEGORIES),)),
    Channel("size_guide_used", (-2.5, 0.7, 0.0, 0.0, 0.0), props=(("category", CATEGORIES[:3]),)),
    # The buying journey: research thickening before the demo request / trial.
    Channel("page_view", (1.0, 0.3, 0.0, 0.0, 0.0), mode="journey", props=_paths("/pricing")),
    Channel("page_view", (-0.9, 0.2, 0.5, 0.0, 0.0), mode="journey", props=_paths("/pricing/enterprise")),
    Channel("page_view", (0.1, 0.3, 0.0, 0.0, 0.0), mode="journey", props=_paths(*INTEGRATION_PAGES)),
    Channel("page_view", (-0.3, 0.2, 0.0, 0.0, 0.0), mode="journey", props=_paths(*DOCS_PAGES)),
    Channel("content_downloaded", (-0.7, 0.4, 0.2, 0.0, 0.0), mode="journey",
            props=(("asset_type", ("case_study",)),)),
    Channel("email_clicked", (-0.6, 0.3, 0.0, 0.0, 0.0), mode="journey", props=(("campaign", EMAIL_CAMPAIGNS),),
            opted_in=True),
    Channel("category_viewed", (0.3, 0.3, 0.0, 0.0, 0.0), mode="journey",
            props=(("category", CATEGORIES), ("path", tuple(f"/category/{c}" for c in CATEGORIES)))),
    Channel("added_to_cart", (-1.0, 0.4, 0.0, 0.0, 0.0), mode="journey", props=(("category", CATEGORIES),)),
    Channel("size_guide_used", (-1.5, 0.3, 0.0, 0.0, 0.0), mode="journey", props=(("category", CATEGORIES[:3]),)),
)  # fmt: skip

#: Every string property column of the events table and its values (codes index into these).
PROPERTY_VALUES: dict[str, tuple[str, ...]] = {
    "path": ("/", *BLOG_POSTS, *DOCS_PAGES, "/pricing", "/pricing/enterprise", *INTEGRATION_PAGES, "/case-studies",
             "/careers", "/careers/openings", "/contact", "/newsletter", "/ebook", "/demo",
             *(f"/category/{c}" for c in CATEGORIES)),
    "asset_type": ("case_study", "whitepaper", "ebook"),
    "category": CATEGORIES,
    "campaign": EMAIL_CAMPAIGNS,
    "feature": FEATURES,
}  # fmt: skip
EVENT_NAMES = tuple(
    dict.fromkeys([c.event for c in CHANNELS] + [
        "demo_requested", "trial_started", "feature_used", "seat_invited",
        "webinar_registered", "webinar_attended", "slide_deck_requested",
    ])
)  # fmt: skip
SESSIONS_PER_LEAD = 6
DEFAULT_START = datetime(2026, 5, 1, tzinfo=UTC)
DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
JOURNEY_SCALE = 6 * DAY  # research density rises as exp(-(moment - t) / scale) toward the moment


@dataclass(frozen=True)
class GenerateSummary:
    leads: int
    accounts: int
    events: int
    sqls: int
    customers: int

    def __str__(self) -> str:
        return (
            f"{self.leads:,} leads, {self.accounts:,} accounts, {self.events:,} events, "
            f"{self.sqls:,} SQLs, {self.customers:,} customers"
        )


@dataclass
class _Latent:
    """The hidden state of each lead, and the bits of observable state events depend on."""

    fit: np.ndarray
    intent: np.ndarray
    job_seeker: np.ndarray
    student: np.ndarray
    competitor: np.ndarray
    created: np.ndarray  # microseconds since the epoch
    email_opt_in: np.ndarray
    journey: np.ndarray  # bool: goes through a buying journey
    moment: np.ndarray  # microseconds: when the journey peaks (demo request / trial)
    employees: np.ndarray  # of the lead's account, 0 when none

    @property
    def covariates(self) -> np.ndarray:
        n = self.fit.size
        return np.stack([np.ones(n), self.intent, self.fit, self.job_seeker, self.student], axis=1)


@dataclass
class _Events:
    """Events gathered part by part: lead index, time, and one row of codes per event (-1: none).

    The code columns are ``event``, the string properties (``values``) and ``live`` (0 false, 1 true); they
    live in one int16 matrix so that putting the events in time order is one gather, not one per column.
    """

    values: dict[str, tuple[str, ...]]  # string property column -> the strings its codes index
    lead: list[np.ndarray] = field(default_factory=list)
    ts: list[np.ndarray] = field(default_factory=list)
    codes: list[np.ndarray] = field(default_factory=list)

    @property
    def columns(self) -> tuple[str, ...]:
        return ("event", *self.values, "live")

    def add(self, lead: np.ndarray, event: str, ts: np.ndarray, **props: np.ndarray | int) -> None:
        columns = self.columns
        codes = np.full((lead.size, len(columns)), -1, np.int16)
        codes[:, 0] = EVENT_NAMES.index(event)
        for name, value in props.items():
            codes[:, columns.index(name)] = value
        self.lead.append(lead.astype(np.int64, copy=False))
        self.ts.append(np.asarray(ts, np.int64))
        self.codes.append(codes)


def _micros(when: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * SECOND + delta.microseconds


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _trunc_exp(rng: np.random.Generator, scale: float, upper: np.ndarray) -> np.ndarray:
    """Exponential(scale) draws truncated to [0, upper], by inverse CDF (no spike at the bound)."""
    u = rng.random(upper.size)
    return (-scale * np.log1p(u * np.expm1(-np.maximum(upper, 0) / scale))).astype(np.int64)


def _pick(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Row-wise categorical draw from non-negative weights (n x k)."""
    cdf = np.cumsum(weights, axis=1)
    u = rng.random(weights.shape[0]) * cdf[:, -1]
    return (u[:, None] >= cdf).sum(axis=1)


def _labels(values: tuple[str, ...] | list[str], codes: np.ndarray) -> pa.DictionaryArray:
    """Strings by code, dictionary-encoded; a negative code is null.  ``_write`` decodes them as needed."""
    codes = np.asarray(codes)
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(values, pa.string()))


def _strings(values: tuple[str, ...] | list[str], codes: np.ndarray) -> pa.Array:
    """Strings by code; a negative code is null."""
    return _labels(values, codes).cast(pa.string())


_DIGITS4 = np.frombuffer("".join(f"{i:04d}" for i in range(10_000)).encode(), np.uint32)  # 4 ASCII digits each


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    """``prefix`` + 1..n zero-padded to ``width`` digits, built as bytes (much faster than formatting)."""
    width = max(width, len(str(n)))
    size = len(prefix) + width
    groups = np.empty((n, -(-width // 4)), np.uint32)
    number = np.arange(1, n + 1, dtype=np.int64)
    for i in range(groups.shape[1] - 1, -1, -1):
        groups[:, i] = _DIGITS4[number % 10_000]
        number //= 10_000
    digits = groups.view(np.uint8)
    chars = np.empty((n, size), np.uint8)
    chars[:, : len(prefix)] = np.frombuffer(prefix.encode(), np.uint8)
    chars[:, len(prefix) :] = digits[:, digits.shape[1] - width :]
    large = n * size >= 2**31
    offsets = np.arange(0, (n + 1) * size, size, dtype=np.int64 if large else np.int32)
    kind = pa.large_string() if large else pa.string()
    return pa.Array.from_buffers(kind, n, [None, pa.py_buffer(offsets), pa.py_buffer(chars)])


def _timestamps(micros: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(micros, pa.int64(), mask=None if valid is None else ~valid).cast(TS_TYPE)


@dataclass(frozen=True)
class Simulation:
    """The four tables, as written, and the hidden per-lead state behind them (in ``leads`` row order).

    Event label columns (``event`` and the text properties) are dictionary-encoded strings; every other text
    column is a plain string.  Timestamps are naive UTC microseconds (``TS_TYPE``).
    """

    leads: pa.Table
    accounts: pa.Table
    events: pa.Table
    outcomes: pa.Table
    fit: np.ndarray
    intent: np.ndarray

    def summary(self) -> GenerateSummary:
        return GenerateSummary(
            leads=self.leads.num_rows,
            accounts=self.accounts.num_rows,
            events=self.events.num_rows,
            sqls=int(pc.sum(self.outcomes.column("became_sql")).as_py() or 0),
            customers=int(pc.sum(self.outcomes.column("won")).as_py() or 0),
        )


def simulate(
    *,
    leads: int = 2000,
    seed: int = 7,
    start: datetime = DEFAULT_START,
    end: datetime = DEFAULT_END,
    accounts: int | None = None,
) -> Simulation:
    """Draw the demo data in memory; ``generate`` writes it.  Every timestamp lies in [start, end)."""
    if leads < 1:
        raise ValueError("leads must be at least 1")
    if accounts is not None and accounts < 1:
        raise ValueError("accounts must be at least 1")
    t0, t1 = _micros(start), _micros(end)
    if t1 - t0 < DAY:
        raise ValueError("end must be at least a day after start")
    rng = np.random.default_rng(seed)
    account_table, acc = _accounts(rng, accounts if accounts is not None else max(20, leads // 8))
    lead_table, latent = _leads(rng, leads, account_table, acc, t0, t1)
    lead_ids = lead_table.column("lead_id")
    events = _events(rng, latent, lead_ids, t0, t1)
    outcomes = _outcomes(rng, latent, lead_ids, t1)
    return Simulation(lead_table, account_table, events, outcomes, latent.fit, latent.intent)


def generate(
    out_dir: Path,
    *,
    leads: int = 2000,
    seed: int = 7,
    start: datetime = DEFAULT_START,
    end: datetime = DEFAULT_END,
    fmt: Format = "csv",
    accounts: int | None = None,
) -> GenerateSummary:
    """Write ``leads``, ``accounts``, ``events`` and ``outcomes`` files (``<name>.<fmt>``) into ``out_dir``.

    ``accounts`` defaults to one per eight leads (at least 20).  The same arguments give the same bytes.
    Text formats write timestamps as ISO-8601 UTC (``2026-05-01T12:00:00Z``); JSONL leaves out nulls.
    """
    if fmt not in ("csv", "jsonl", "parquet"):
        raise ValueError(f"unknown format {fmt!r}; expected csv, jsonl or parquet")
    sim = simulate(leads=leads, seed=seed, start=start, end=end, accounts=accounts)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("leads", "accounts", "events", "outcomes"):
        _write(getattr(sim, name), out_dir / f"{name}.{fmt}", fmt)
    return sim.summary()


# -- accounts --------------------------------------------------------------------------------------------
def _accounts(rng: np.random.Generator, n: int) -> tuple[pa.Table, dict[str, np.ndarray]]:
    industry = rng.choice(len(INDUSTRIES), n, p=np.array(INDUSTRY_WEIGHTS) / sum(INDUSTRY_WEIGHTS))
    employees = np.round(np.exp(rng.normal(4.8, 1.6, n))).clip(2, 250_000).astype(np.int64)
    target = rng.random(n) < 0.75
    country = np.where(
        target,
        rng.integers(0, len(TARGET_COUNTRIES), n),
        len(TARGET_COUNTRIES) + rng.integers(0, len(OTHER_COUNTRIES), n),
    )
    segment = np.where(employees < 100, 0, np.where(employees < 1000, 1, 2))
    icp = (
        np.isin(industry, [INDUSTRIES.index(i) for i in ICP_INDUSTRIES])
        & (employees >= ICP_EMPLOYEES[0])
        & (employees <= ICP_EMPLOYEES[1])
        & target
    )
    head = rng.integers(0, len(COMPANY_HEADS), n)
    tail = rng.integers(0, len(COMPANY_TAILS), n)
    kind = industry * 3 + rng.integers(0, 3, n)
    stem = pc.binary_join_element_wise(_strings(COMPANY_HEADS, head), _strings(COMPANY_TAILS, tail), "")
    name = pc.binary_join_element_wise(stem, _strings(COMPANY_KINDS, kind), " ")
    # Domains are unique: the second "Bluepeak Labs" gets bluepeaklabs2.com, and so on.
    combo = (head * len(COMPANY_TAILS) + tail) * len(COMPANY_KINDS) + kind
    order = np.argsort(combo, kind="stable")
    sorted_combo = combo[order]
    first = np.searchsorted(sorted_combo, sorted_combo, side="left")
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - first
    suffix = pc.if_else(pa.array(rank > 0), pc.cast(pa.array(rank + 1), pa.string()), pa.scalar(""))
    base = pc.utf8_lower(pc.binary_join_element_wise(stem, _strings(COMPANY_KINDS, kind), suffix, ""))
    domain = pc.binary_join_element_wise(base, _strings(TLDS, country), "")
    table = pa.table({
        "account_id": _ids("A", n, max(6, len(str(n)))),
        "domain": domain,
        "name": name,
        "industry": _strings(INDUSTRIES, industry),
        "employees": pa.array(employees),
        "country": _strings(COUNTRIES, country),
        "segment": _strings(SEGMENTS, segment),
    })  # fmt: skip
    return table, {"employees": employees, "icp": icp, "country": country}


# -- leads -----------------------------------------------------------------------------------------------
def _leads(
    rng: np.random.Generator, n: int, accounts: pa.Table, acc: dict[str, np.ndarray], t0: int, t1: int
) -> tuple[pa.Table, _Latent]:
    fit = rng.normal(size=n)
    intent = 0.45 * fit + np.sqrt(1 - 0.45**2) * rng.normal(size=n)
    student = rng.random(n) < _sigmoid(-3.2 - 0.6 * fit)
    competitor = ~student & (rng.random(n) < 0.006)
    job_seeker = ~student & ~competitor & (rng.random(n) < _sigmoid(-3.4 - 0.6 * fit))
    invalid = rng.random(n) < 0.015
    # Email: 0 business, 1 free mail, 2 student, 3 competitor, 4 invalid or missing.
    free = rng.random(n) < _sigmoid(-0.9 - 0.7 * fit + 1.5 * job_seeker)
    kind = np.select([invalid, student, competitor, free], [4, 2, 3, 1], 0)
    business = kind == 0

    n_acc = acc["employees"].size
    icp_index = np.flatnonzero(acc["icp"])
    to_icp = (rng.random(n) < _sigmoid(1.1 * fit - 0.8)) & (icp_index.size > 0)
    any_account = rng.integers(0, n_acc, n)
    icp_account = icp_index[rng.integers(0, icp_index.size, n)] if icp_index.size else any_account
    account = np.where(to_icp, icp_account, any_account)
    employees = np.where(business, acc["employees"][account], 0)

    level = np.clip(np.round(1.8 + 0.9 * fit + rng.normal(0, 0.8, n)), 0, 5).astype(np.int64)
    sizes = np.array([len(t) for t in TITLES])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ladder = [t for level_titles in TITLES for t in level_titles]
    title_values = ladder + list(STUDENT_TITLES) + list(JOB_SEEKER_TITLES)
    draw = rng.integers(0, 1 << 30, n)
    seeker_title = job_seeker & (rng.random(n) < 0.5)
    title = np.select(
        [student, seeker_title],
        [len(ladder) + draw % len(STUDENT_TITLES), len(ladder) + len(STUDENT_TITLES) + draw % len(JOB_SEEKER_TITLES)],
        offsets[level] + draw % sizes[level],
    )
    level = np.where(student | seeker_title, 0, level)

    in_target = rng.random(n) < _sigmoid(1.2 + 1.0 * fit - 1.0 * student)
    own_country = np.where(
        in_target,
        rng.integers(0, len(TARGET_COUNTRIES), n),
        len(TARGET_COUNTRIES) + rng.integers(0, len(OTHER_COUNTRIES), n),
    )
    country = np.where(business & (rng.random(n) < 0.8), acc["country"][account], own_country)

    lead_ids = _ids("L", n, max(7, len(str(n))))
    first = _strings(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), n))
    last = _strings(LAST_NAMES, rng.integers(0, len(LAST_NAMES), n))
    local = pc.utf8_lower(pc.binary_join_element_wise(first, last, "."))
    digits = pc.cast(pa.array(rng.integers(10, 100, n)), pa.string())
    numbered = pc.binary_join_element_wise(local, digits, "")
    own_domain = pc.take(accounts.column("domain"), pa.array(account))
    free_domain = _strings(FREE_MAIL, rng.integers(0, len(FREE_MAIL), n))
    school = _strings(STUDENT_DOMAINS, rng.integers(0, len(STUDENT_DOMAINS), n))
    rival = _strings(COMPETITORS, rng.integers(0, len(COMPETITORS), n))
    broken = rng.integers(0, 4, n)  # missing, no TLD, no @, a space
    bad = pc.case_when(
        pc.make_struct(pa.array(broken == 0), pa.array(broken == 1), pa.array(broken == 2)),
        pa.scalar(None, pa.string()),
        pc.binary_join_element_wise(local, pa.scalar("@gmail"), ""),
        pc.binary_join_element_wise(local, free_domain, "."),
        pc.binary_join_element_wise(local, free_domain, " @"),
    )
    email = pc.case_when(
        pc.make_struct(*(pa.array(kind == k) for k in range(4))),
        pc.binary_join_element_wise(local, own_domain, "@"),
        pc.binary_join_element_wise(numbered, free_domain, "@"),
        pc.binary_join_element_wise(numbered, school, "@"),
        pc.binary_join_element_wise(local, rival, "@"),
        bad,
    )

    created = t0 + (rng.random(n) * (t1 - t0 - HOUR)).astype(np.int64)
    created -= created % SECOND
    source = _pick(rng, np.exp(np.stack([
        np.full(n, 1.0), np.full(n, 0.6), 0.3 - 0.3 * fit, 0.1 + 0.2 * intent, 0.2 + 0.5 * fit, -0.4 + 0.4 * fit,
    ], axis=1)))  # fmt: skip
    campaign = source * 3 + rng.integers(0, 3, n)
    campaigns = [c for per_source in CAMPAIGNS for c in per_source]
    campaign = np.where(np.array(campaigns)[campaign] == "", -1, campaign)
    email_opt_in = rng.random(n) < _sigmoid(1.0 + 0.5 * intent)
    sms_opt_in = rng.random(n) < _sigmoid(-0.3 + 0.7 * intent)

    journey = rng.random(n) < _sigmoid(-1.1 + 1.3 * intent + 0.3 * fit - 2.0 * job_seeker - 1.5 * student)
    moment = created + HOUR + _trunc_exp(rng, 30 * DAY, t1 - created - 2 * HOUR)
    table = pa.table({
        "lead_id": lead_ids,
        "email": email,
        "account_id": pc.if_else(
            pa.array(business),
            pc.take(accounts.column("account_id"), pa.array(account)),
            pa.scalar(None, pa.string()),
        ),
        "created_at": _timestamps(created),
        "first_name": first,
        "last_name": last,
        "title": _strings(title_values, title),
        "seniority": _strings(SENIORITIES, level),
        "country": _strings(COUNTRIES, country),
        "source": _strings(SOURCES, source),
        "campaign": _strings(campaigns, campaign),
        "email_opt_in": pa.array(email_opt_in),
        "sms_opt_in": pa.array(sms_opt_in),
    })  # fmt: skip
    latent = _Latent(
        fit=fit,
        intent=intent,
        job_seeker=job_seeker,
        student=student,
        competitor=competitor,
        created=created,
        email_opt_in=email_opt_in,
        journey=journey,
        moment=moment,
        employees=employees,
    )
    return table, latent


# -- events ----------------------------------------------------------------------------------------------
def _webinars(t0: int, t1: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """A fortnightly schedule, Thursdays 16:00 UTC, from a week after the start to three weeks past the end."""
    day = -(-t0 // DAY)
    thursday = day + (-day) % 7  # 1970-01-01, day 0, was a Thursday
    dates = np.arange((thursday + 7) * DAY + 16 * HOUR, t1 + 21 * DAY, 14 * DAY, dtype=np.int64)
    names = tuple(
        f"{datetime.fromtimestamp(d / SECOND, UTC):%Y-%m-%d}-{WEBINAR_TOPICS[i % len(WEBINAR_TOPICS)]}"
        for i, d in enumerate(dates.tolist())
    )
    return dates, names


def _codes(column: str, values: tuple[str, ...]) -> np.ndarray:
    return np.array([PROPERTY_VALUES[column].index(v) for v in values], np.int16)


def _events(rng: np.random.Generator, lat: _Latent, lead_ids: pa.ChunkedArray, t0: int, t1: int) -> pa.Table:
    n = lat.fit.size
    dates, webinars = _webinars(t0, t1)
    out = _Events(values={**PROPERTY_VALUES, "webinar": webinars})
    span = (t1 - lat.created).astype(np.float64)
    exposure = span / (90 * DAY)
    x = lat.covariates
    # Session anchors: recent for high intent (u ** (1 / (1 + k·intent)) leans toward 1).
    lean = 1.0 / (1.0 + 1.5 * np.maximum(lat.intent, 0))
    u = rng.random((n, SESSIONS_PER_LEAD)) ** lean[:, None]
    anchors = lat.created[:, None] + (span[:, None] * u).astype(np.int64)
    anchors[:, 0] = lat.created  # the visit that created the lead

    for channel in CHANNELS:
        rate = np.exp(x @ np.array(channel.coef))
        if channel.mode == "session":
            rate = rate * exposure
        else:
            rate = rate * lat.journey
        if channel.opted_in:
            rate = rate * lat.email_opt_in
        counts = rng.poisson(rate)
        if channel.once:
            counts = np.minimum(counts, 1)
        idx = np.repeat(np.arange(n), counts)
        if channel.mode == "session":
            ts = anchors[idx, rng.integers(0, SESSIONS_PER_LEAD, idx.size)] + rng.exponential(
                15 * MINUTE, idx.size
            ).astype(np.int64)
        else:
            moment = lat.moment[idx]
            ts = moment - MINUTE - _trunc_exp(rng, JOURNEY_SCALE, moment - MINUTE - lat.created[idx])
        props: dict[str, np.ndarray | int] = {}
        if channel.props:
            pick = rng.integers(0, len(channel.props[0][1]), idx.size)
            props = {name: _codes(name, values)[pick] for name, values in channel.props}
        out.add(idx, channel.event, ts, **props)

    _conversions(rng, lat, out, t1)
    _webinar_events(rng, lat, out, dates, t1)
    # Job seekers check the careers pages in bursts of a few visits over about ten days.
    seekers = np.flatnonzero(lat.job_seeker)
    burst = lat.created[seekers] + (rng.random(seekers.size) * span[seekers]).astype(np.int64)
    visits = 1 + rng.poisson(2.5, seekers.size)
    idx = np.repeat(seekers, visits)
    careers = _codes("path", ("/careers", "/careers/openings"))[rng.integers(0, 2, idx.size)]
    ts = np.repeat(burst, visits) + (rng.random(idx.size) * 10 * DAY).astype(np.int64)
    out.add(idx, "page_view", ts, path=careers)
    return _event_table(out, lead_ids, lat.created, t0, t1)


def _conversions(rng: np.random.Generator, lat: _Latent, out: _Events, t1: int) -> None:
    """Demo requests at the journey's moment, trials around it, product usage after the trial."""
    n = lat.fit.size
    block = 3.0 * (lat.job_seeker | lat.student | lat.competitor)
    demo = lat.journey & (rng.random(n) < _sigmoid(0.0 + 1.0 * lat.intent + 0.6 * lat.fit - block))
    idx = np.flatnonzero(demo)
    out.add(idx, "demo_requested", lat.moment[idx], path=PROPERTY_VALUES["path"].index("/demo"))
    trial = lat.journey & (rng.random(n) < _sigmoid(-0.1 + 1.0 * lat.intent + 0.3 * lat.fit - block))
    idx = np.flatnonzero(trial)
    started = lat.moment[idx] + _trunc_exp(rng, 2 * DAY, t1 - lat.moment[idx] - MINUTE)
    out.add(idx, "trial_started", started)
    trial_at = np.zeros(n, np.int64)
    trial_at[idx] = started
    for event, coef in (("feature_used", (0.9, 0.5, 0.1)), ("seat_invited", (-0.6, 0.3, 0.5))):
        rate = np.exp(coef[0] + coef[1] * lat.intent[idx] + coef[2] * lat.fit[idx])
        used = np.repeat(idx, rng.poisson(rate))
        ts = trial_at[used] + MINUTE + rng.exponential(8 * DAY, used.size).astype(np.int64)
        props = {"feature": rng.integers(0, len(FEATURES), used.size)} if event == "feature_used" else {}
        out.add(used, event, ts, **props)


def _webinar_events(rng: np.random.Generator, lat: _Latent, out: _Events, dates: np.ndarray, t1: int) -> None:
    """Registrations before a scheduled webinar, live or on-demand attendance, slide-deck requests."""
    x = lat.covariates
    exposure = (t1 - lat.created) / (90 * DAY)
    rate = np.exp(x @ np.array([-0.9, 0.8, 0.3, -1.0, 0.3])) * exposure
    idx = np.repeat(np.arange(lat.fit.size), rng.poisson(rate))
    first = np.searchsorted(dates, lat.created[idx] + DAY)
    ok = first < dates.size
    idx, first = idx[ok], first[ok]
    which = first + (rng.random(idx.size) * (dates.size - first)).astype(np.int64)
    date = dates[which]
    registered = date - _trunc_exp(rng, 5 * DAY, date - lat.created[idx] - HOUR)
    out.add(idx, "webinar_registered", registered, webinar=which)
    it, ft = lat.intent[idx], lat.fit[idx]
    attended = rng.random(idx.size) < _sigmoid(0.2 + 0.8 * it + 0.2 * ft)
    live = rng.random(idx.size) < _sigmoid(0.5 + 0.6 * it)
    seen = np.where(
        live,
        date + (rng.random(idx.size) * 20 * MINUTE).astype(np.int64),
        date + DAY + rng.exponential(4 * DAY, idx.size).astype(np.int64),
    )
    a = np.flatnonzero(attended)
    out.add(idx[a], "webinar_attended", seen[a], webinar=which[a], live=live[a].astype(np.int16))
    deck = attended & (rng.random(idx.size) < _sigmoid(-0.5 + 0.8 * it + 0.4 * ft))
    d = np.flatnonzero(deck)
    delay = np.where(live[d], 45 * MINUTE, DAY) * rng.random(d.size)
    out.add(idx[d], "slide_deck_requested", seen[d] + delay.astype(np.int64), webinar=which[d])


def _time_order(ts: np.ndarray, keep: np.ndarray, t0: int) -> np.ndarray:
    """Positions of the kept events in time order (ties as generated).

    Sorting values is about twice as fast as argsort, so (seconds, position) is packed into one int64 and
    the position read back from the sorted keys; very long spans of very many events fall back to argsort.
    """
    kept = np.flatnonzero(keep)
    seconds = (ts[kept] - t0) // SECOND
    shift = int(kept.size).bit_length()
    if int(seconds.max(initial=0)).bit_length() + shift > 62:
        return kept[np.argsort(seconds, kind="stable")]
    packed = np.sort((seconds << shift) | np.arange(kept.size), kind="stable")
    return kept[packed & ((1 << shift) - 1)]


def _event_table(out: _Events, lead_ids: pa.ChunkedArray, created: np.ndarray, t0: int, t1: int) -> pa.Table:
    lead = np.concatenate(out.lead)
    ts = np.concatenate(out.ts)
    ts = np.maximum(ts, created[lead])
    ts -= ts % SECOND
    keep = ts < t1
    order = _time_order(ts, keep, t0)
    codes = np.take(np.concatenate(out.codes), order, axis=0)  # much faster than fancy indexing on rows
    columns: dict[str, pa.Array] = {
        "lead_id": pc.take(lead_ids, pa.array(lead[order])),
        "event": _labels(EVENT_NAMES, codes[:, 0]),
        "ts": _timestamps(ts[order]),
        "message_id": _ids("msg_", order.size, 9),
    }
    for i, (name, values) in enumerate(out.values.items(), start=1):
        columns[name] = _labels(values, codes[:, i])
    live = codes[:, -1]
    columns["live"] = pa.array(live == 1, mask=live < 0)
    return pa.table(columns)


# -- outcomes --------------------------------------------------------------------------------------------
def _outcomes(rng: np.random.Generator, lat: _Latent, lead_ids: pa.ChunkedArray, t1: int) -> pa.Table:
    """SQL, opportunity and win from a logistic function of the latent state; censored at the end."""
    n = lat.fit.size
    persona = 2.5 * lat.student + 3.0 * lat.competitor + 2.0 * lat.job_seeker
    p_sql = _sigmoid(-2.4 + 1.0 * lat.fit + 1.4 * lat.intent - persona)
    sql_at = np.where(
        lat.journey,
        lat.moment + rng.exponential(3 * DAY, n).astype(np.int64),
        lat.created + rng.exponential(25 * DAY, n).astype(np.int64),
    )
    sql_at -= sql_at % SECOND
    sql = (rng.random(n) < p_sql) & (sql_at < t1)
    opportunity = sql & (rng.random(n) < _sigmoid(0.3 + 0.7 * lat.fit))
    closed_at = sql_at + 7 * DAY + rng.exponential(30 * DAY, n).astype(np.int64)
    closed_at -= closed_at % SECOND
    closed = opportunity & (closed_at < t1)
    won = closed & (rng.random(n) < _sigmoid(-0.5 + 0.6 * lat.fit + 0.4 * lat.intent))
    size = np.log10(np.maximum(lat.employees, 5) + 10)
    revenue = np.where(won, np.round(np.exp(rng.normal(8.3, 0.5, n)) * size, 2), 0.0)
    return pa.table({
        "lead_id": lead_ids,
        "became_sql": pa.array(sql),
        "sql_at": _timestamps(sql_at, sql),
        "opportunity": pa.array(opportunity),
        "won": pa.array(won),
        "revenue": pa.array(revenue),
        "closed_at": _timestamps(closed_at, closed),
    })  # fmt: skip


# -- writing ---------------------------------------------------------------------------------------------
def _iso(table: pa.Table) -> pa.Table:
    """Timestamps as ISO-8601 UTC text (``2026-05-01T12:00:00Z``) for the text formats."""
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            seconds = table.column(i).cast(pa.timestamp("s"))
            table = table.set_column(i, f.name, pc.strftime(seconds, "%Y-%m-%dT%H:%M:%SZ"))
    return table


def _decoded(table: pa.Table) -> pa.Table:
    """Dictionary-encoded columns as plain strings."""
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    return table


def _write(table: pa.Table, path: Path, fmt: Format) -> None:
    if fmt == "parquet":
        # Dictionary columns are written as Parquet dictionary pages; without the stored Arrow schema they
        # read back as plain strings.  Message ids are unique: not worth a dictionary.
        dictionary = [c for c in table.column_names if c != "message_id"]
        pq.write_table(table, path, compression="zstd", use_dictionary=dictionary, store_schema=False)
    elif fmt == "csv":
        pacsv.write_csv(_iso(_decoded(table)), path)
    else:
        with path.open("w", encoding="utf-8") as f:
            for batch in _iso(_decoded(table)).to_batches(max_chunksize=65_536):
                for row in batch.to_pylist():
                    f.write(json.dumps({k: v for k, v in row.items() if v is not None}) + "\n")
