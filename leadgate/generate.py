"""Deterministic demo data: leads with a latent fit and intent, events driven by them, and outcomes.

Every lead gets two hidden numbers, ``fit`` and ``intent`` (standard normal, correlated 0.3).  Fit drives
what is observable about who they are (title seniority, company size and industry, geography, business vs
free-mail vs student email, competitors); intent drives how much they do and what (pricing pages, demo
requests, trials, webinars attended live, ...).  Outcomes (SQL, opportunity, won, revenue) are drawn from a
logistic function of both, so calibration and backtesting have real signal to recover.  The same seed and
arguments give the same bytes: numpy's PCG64 generator, no wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
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

INDUSTRIES = ["software", "fintech", "healthcare", "retail", "manufacturing", "education", "media", "logistics"]
ICP_INDUSTRIES = {"software", "fintech", "healthcare"}
TARGET_COUNTRIES = ["US", "CA", "GB", "DE", "FR", "NL", "AU"]
OTHER_COUNTRIES = ["IN", "BR", "NG", "PK", "ID", "VN"]
TITLES = [  # by seniority 0..5
    ["Student", "Intern", "Graduate Student"],
    ["Analyst", "Engineer", "Marketing Specialist", "Sales Representative"],
    ["Marketing Manager", "Engineering Manager", "Sales Manager"],
    ["Director of Marketing", "Director of Engineering", "Head of Growth"],
    ["VP Marketing", "VP Sales", "Vice President, Operations"],
    ["CEO", "CTO", "Chief Revenue Officer", "Founder"],
]
FREE_MAIL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com"]
STUDENT_DOMAINS = ["stanford.edu", "mit.edu", "ox.ac.uk", "cam.ac.uk", "berkeley.edu"]
COMPETITORS = ["rivalcrm.com", "competiq.io", "leadzilla.com"]
SOURCES = ["organic", "paid_search", "social", "email", "referral", "event"]
CAMPAIGNS = ["q2_webinar_series", "pricing_retargeting", "ebook_state_of_revops", "partner_referral", "brand", "none"]
FIRST_NAMES = ["Ada", "Ben", "Chen", "Dana", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lea"]

# Event types: (name, base logit, intent slope, job-seeker slope).  Sampled per event by Gumbel-max.
EVENT_TYPES = [
    ("page_view", 2.6, 0.0, 0.5),
    ("email_opened", 1.3, 0.1, 0.0),
    ("email_clicked", 0.0, 0.4, 0.0),
    ("content_downloaded", -0.2, 0.5, 0.0),
    ("webinar_registered", -1.0, 0.5, 0.0),
    ("webinar_attended", -1.4, 0.7, 0.0),
    ("slide_deck_requested", -2.4, 0.8, 0.0),
    ("newsletter_subscribed", -1.6, 0.2, 0.0),
    ("unsubscribed", -2.2, -0.9, 0.0),
    ("form_submitted", -1.5, 0.6, 0.0),
    ("demo_requested", -3.1, 1.4, -2.0),
    ("trial_started", -3.2, 1.3, -2.0),
    ("feature_used", -2.6, 1.5, -2.0),
    ("seat_invited", -3.6, 1.5, -2.0),
    ("category_viewed", -0.4, 0.3, 0.0),
    ("added_to_cart", -2.2, 1.0, 0.0),
    ("size_guide_used", -2.8, 0.8, 0.0),
]
# Page paths: (path, base logit, intent slope, job-seeker slope).
PATHS = [
    ("/", 1.0, 0.0, 0.0),
    ("/blog/lead-scoring-101", 0.8, -0.2, 0.0),
    ("/blog/mql-vs-sql", 0.6, 0.0, 0.0),
    ("/docs/getting-started", -0.2, 0.6, 0.0),
    ("/pricing", -0.6, 1.2, -1.0),
    ("/pricing/enterprise", -1.8, 1.3, -1.0),
    ("/integrations", -1.0, 0.9, 0.0),
    ("/integrations/salesforce", -1.6, 0.9, 0.0),
    ("/case-studies", -1.2, 0.6, 0.0),
    ("/careers", -3.2, -0.3, 4.0),
    ("/careers/openings", -3.8, -0.3, 3.5),
]
ASSETS = ["case_study", "whitepaper", "ebook", "checklist"]
CATEGORIES = ["shoes", "jackets", "accessories", "sale"]


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


def _micros(when: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _pick(rng: np.random.Generator, logits: np.ndarray) -> np.ndarray:
    """Row-wise categorical draw from unnormalized logits (Gumbel-max)."""
    return np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)


def _take(values: list[str], index: np.ndarray) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int32)), pa.array(values)).cast(pa.string())


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    numbers = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), numbers, "")


def generate(
    out_dir: Path,
    *,
    leads: int = 2000,
    seed: int = 7,
    start: datetime = datetime(2026, 5, 1, tzinfo=UTC),
    end: datetime = datetime(2026, 11, 1, tzinfo=UTC),
    fmt: Format = "csv",
    accounts: int | None = None,
) -> GenerateSummary:
    """Write leads, accounts, events and outcomes files into ``out_dir``."""
    rng = np.random.default_rng(seed)
    n = leads
    n_acc = accounts or max(20, n // 8)
    t0, t1 = _micros(start), _micros(end)

    # Accounts.
    acc_industry = rng.integers(0, len(INDUSTRIES), n_acc)
    acc_employees = np.round(np.exp(rng.normal(4.6, 1.5, n_acc))).clip(2, 200_000)
    acc_country = rng.integers(0, len(TARGET_COUNTRIES) + len(OTHER_COUNTRIES), n_acc)
    acc_icp = (
        np.isin(np.array(INDUSTRIES)[acc_industry], list(ICP_INDUSTRIES))
        & (acc_employees >= 50)
        & (acc_employees <= 1000)
    )
    countries = TARGET_COUNTRIES + OTHER_COUNTRIES
    segment = np.where(acc_employees < 50, 0, np.where(acc_employees <= 1000, 1, 2))
    account_ids = _ids("A", n_acc, 6)
    domains = pc.binary_join_element_wise(pc.utf8_lower(account_ids), pa.scalar(".example.com"), "")
    account_table = pa.table({
        "account_id": account_ids,
        "domain": domains,
        "name": pc.binary_join_element_wise(pa.scalar("Company "), account_ids, ""),
        "industry": _take(INDUSTRIES, acc_industry),
        "employees": pa.array(acc_employees),
        "country": _take(countries, acc_country),
        "segment": _take(["smb", "mid_market", "enterprise"], segment),
    })  # fmt: skip

    # Leads: latent fit and intent.
    fit = rng.normal(size=n)
    intent = 0.3 * fit + np.sqrt(1 - 0.09) * rng.normal(size=n)
    job_seeker = rng.random(n) < 0.03
    email_kind = _pick(rng, np.stack([
        np.full(n, 1.6) + 0.8 * fit,          # business
        np.full(n, 0.4) - 0.4 * fit,          # free mail
        np.full(n, -2.2) - 1.0 * fit,         # student
        np.full(n, -4.5) + 0.0 * fit,         # competitor
    ], axis=1))  # fmt: skip
    icp_idx = np.flatnonzero(acc_icp)
    use_icp = (rng.random(n) < _sigmoid(fit - 0.5)) & (icp_idx.size > 0)
    account_of = np.where(
        use_icp, icp_idx[rng.integers(0, max(icp_idx.size, 1), n)] if icp_idx.size else 0, rng.integers(0, n_acc, n)
    )
    business = email_kind == 0
    seniority = np.clip(np.round(1.6 + 1.1 * fit + rng.normal(0, 0.8, n)), 0, 5).astype(int)
    seniority = np.where(email_kind == 2, 0, seniority)
    title_pick = rng.integers(0, 4, n)
    title_values = [t for level in TITLES for t in level]
    offsets = np.cumsum([0] + [len(level) for level in TITLES[:-1]])
    title_index = offsets[seniority] + title_pick % np.array([len(level) for level in TITLES])[seniority]
    lead_country = np.where(
        rng.random(n) < _sigmoid(1.5 + 1.0 * fit),
        rng.integers(0, len(TARGET_COUNTRIES), n),
        len(TARGET_COUNTRIES) + rng.integers(0, len(OTHER_COUNTRIES), n),
    )
    lead_ids = _ids("L", n, 7)
    first = _take(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), n))
    local = pc.binary_join_element_wise(pc.utf8_lower(first), pa.scalar("."), pc.utf8_lower(lead_ids), "")
    free_domain = _take(FREE_MAIL, rng.integers(0, len(FREE_MAIL), n))
    student_domain = _take(STUDENT_DOMAINS, rng.integers(0, len(STUDENT_DOMAINS), n))
    rival_domain = _take(COMPETITORS, rng.integers(0, len(COMPETITORS), n))
    own_domain = pc.take(domains, pa.array(account_of))
    domain = pc.case_when(
        pc.make_struct(pa.array(email_kind == 0), pa.array(email_kind == 1), pa.array(email_kind == 2)),
        own_domain,
        free_domain,
        student_domain,
        rival_domain,
    )
    email = pc.binary_join_element_wise(local, pa.scalar("@"), domain, "")
    created = t0 + (rng.random(n) * (t1 - t0) * 0.95).astype(np.int64)
    created = created - created % 1_000_000
    email_opt_in = rng.random(n) < _sigmoid(0.3 + 0.8 * intent)
    sms_opt_in = rng.random(n) < _sigmoid(-1.0 + 0.8 * intent)
    lead_table = pa.table({
        "lead_id": lead_ids,
        "email": email,
        "account_id": pa.array(np.where(business, account_of, -1)).cast(pa.int64()),
        "created_at": pa.array(created).cast(TS_TYPE),
        "first_name": first,
        "title": _take(title_values, title_index),
        "country": _take(countries, lead_country),
        "source": _take(SOURCES, _pick(rng, np.stack([np.full(n, 1.0), np.full(n, 0.6), np.full(n, 0.4) - 0.3 * fit,
                                                        np.full(n, 0.2), 0.2 + 0.5 * fit, np.full(n, -0.3) + 0.4 * fit],
                                                       axis=1))),
        "campaign": _take(CAMPAIGNS, rng.integers(0, len(CAMPAIGNS), n)),
        "email_opt_in": pa.array(email_opt_in),
        "sms_opt_in": pa.array(sms_opt_in),
    })  # fmt: skip
    account_index = lead_table.column("account_id").to_numpy()
    lead_table = lead_table.set_column(
        2,
        "account_id",
        pc.if_else(
            pa.array(account_index >= 0),
            pc.take(account_ids, pa.array(np.maximum(account_index, 0))),
            pa.scalar(None, pa.string()),
        ),
    )

    # Events: how many per lead, when, and what.
    rate = np.exp(1.93 + 0.9 * intent).clip(0, 400)
    counts = rng.poisson(rate)
    total = int(counts.sum())
    owner = np.repeat(np.arange(n), counts)
    chunks: list[pa.Table] = []
    step = 2_000_000
    for lo in range(0, total, step):
        idx = owner[lo : lo + step]
        m = idx.size
        it, js = intent[idx], job_seeker[idx].astype(float)
        logits = np.stack([b + s * it + j * js for _, b, s, j in EVENT_TYPES], axis=1)
        kind = _pick(rng, logits)
        span = (t1 - created[idx]).astype(np.float64)
        # Recent activity for high intent: times skew toward the end of the lead's life.
        u = rng.random(m) ** (1.0 / (1.0 + np.maximum(it, 0)))
        ts = created[idx] + (u * span).astype(np.int64)
        ts = np.minimum(ts - ts % 1_000_000, t1 - 1_000_000)
        path_logits = np.stack([b + s * it + j * js for _, b, s, j in PATHS], axis=1)
        path = _pick(rng, path_logits)
        is_page = kind == 0
        is_category = kind == 14
        is_download = kind == 3
        is_webinar = kind == 5
        chunks.append(pa.table({
            "lead_id": pc.take(lead_ids, pa.array(idx)),
            "event": _take([e[0] for e in EVENT_TYPES], kind),
            "ts": pa.array(ts).cast(TS_TYPE),
            "message_id": pc.binary_join_element_wise(
                pa.scalar("m"), pc.cast(pa.array(np.arange(lo, lo + m)), pa.string()), ""
            ),
            "path": pc.if_else(pa.array(is_page), _take([p[0] for p in PATHS], path), pa.scalar(None, pa.string())),
            "asset_type": pc.if_else(pa.array(is_download), _take(ASSETS, _pick(rng, np.stack(
                [0.5 * it, np.zeros(m), np.zeros(m) - 0.2 * it, np.zeros(m)], axis=1))), pa.scalar(None, pa.string())),
            "category": pc.if_else(pa.array(is_category), _take(CATEGORIES, rng.integers(0, len(CATEGORIES), m)),
                                   pa.scalar(None, pa.string())),
            "live": pc.if_else(pa.array(is_webinar), pa.array(rng.random(m) < _sigmoid(0.5 + it)),
                               pa.scalar(None, pa.bool_())),
        }))  # fmt: skip
    events_table = (
        pa.concat_tables(chunks)
        if chunks
        else pa.table(
            {"lead_id": pa.array([], pa.string()), "event": pa.array([], pa.string()), "ts": pa.array([], TS_TYPE)}
        )
    )

    # Outcomes.
    sql = rng.random(n) < _sigmoid(-2.6 + 1.1 * fit + 1.3 * intent - 2.5 * (email_kind >= 2) - 2.0 * job_seeker)
    sql_at = np.minimum(created + (rng.exponential(20, n) * 86400e6).astype(np.int64), t1 - 1_000_000)
    opportunity = sql & (rng.random(n) < _sigmoid(0.2 + 0.6 * fit))
    won = opportunity & (rng.random(n) < _sigmoid(-0.4 + 0.5 * fit + 0.4 * intent))
    employees_of = acc_employees[account_of]
    revenue = np.where(won, np.round(np.exp(rng.normal(8.5, 0.6, n)) * np.log10(employees_of + 10), 2), 0.0)
    closed_at = np.minimum(sql_at + (rng.exponential(30, n) * 86400e6).astype(np.int64), t1 - 1_000_000)
    outcome_table = pa.table({
        "lead_id": lead_ids,
        "became_sql": pa.array(sql),
        "sql_at": pc.if_else(pa.array(sql), pa.array(sql_at).cast(TS_TYPE), pa.scalar(None, TS_TYPE)),
        "opportunity": pa.array(opportunity),
        "won": pa.array(won),
        "revenue": pa.array(revenue),
        "closed_at": pc.if_else(pa.array(opportunity), pa.array(closed_at).cast(TS_TYPE), pa.scalar(None, TS_TYPE)),
    })  # fmt: skip

    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in (
        ("leads", lead_table),
        ("accounts", account_table),
        ("events", events_table),
        ("outcomes", outcome_table),
    ):
        _write(table, out_dir / f"{name}.{fmt}", fmt)
    return GenerateSummary(
        leads=n, accounts=n_acc, events=events_table.num_rows, sqls=int(sql.sum()), customers=int(won.sum())
    )


def _iso(table: pa.Table) -> pa.Table:
    """Timestamps as ISO-8601 UTC text (…Z) for the text formats."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            text = pc.strftime(table.column(i), "%Y-%m-%dT%H:%M:%SZ")
            table = table.set_column(i, field.name, text)
    return table


def _write(table: pa.Table, path: Path, fmt: Format) -> None:
    if fmt == "parquet":
        pq.write_table(table, path, compression="zstd")
    elif fmt == "csv":
        pacsv.write_csv(_iso(table), path)
    else:
        import json

        with path.open("w") as f:
            for row in _iso(table).to_pylist():
                f.write(json.dumps(row) + "\n")
