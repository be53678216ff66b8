"""Two baselines for examples/classic.yaml, written by hand the way a user would:

- ``hand_sql``: one DuckDB query over the Parquet files (the engine's limit for this definition);
- ``pandas_mqls``: pandas written by someone who knows it well: every rule a vectorized mask over all
  events, one grouped aggregation, the fit rules as column expressions;
- ``pandas_per_lead_mqls``: pandas written the way the scoring table reads: a function that scores one
  lead's events rule by rule, applied per lead with ``groupby().apply``, and a row function for the fit
  rules (the shape most lead-scoring scripts found in the wild take).

All return the MQL lead ids; the benchmark checks they equal leadgate's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

SENIOR = "(director|head of|vp|vice president|chief|ceo|cto|cfo|coo|founder)"


def hand_sql(files: dict[str, Path], as_of: datetime) -> str:
    t = as_of.strftime("%Y-%m-%d %H:%M:%S")
    t30 = (as_of - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    return f"""
WITH ev AS (
  SELECT lead_id,
    MAX(CASE WHEN event = 'demo_requested' THEN 1 ELSE 0 END) AS demo,
    SUM(CASE WHEN event = 'page_view' AND starts_with(path, '/pricing') AND ts > TIMESTAMP '{t30}'
             THEN 1 ELSE 0 END) AS pricing,
    MAX(CASE WHEN event = 'trial_started' THEN 1 ELSE 0 END) AS trial,
    MAX(CASE WHEN event = 'content_downloaded' AND asset_type = 'case_study' THEN 1 ELSE 0 END) AS case_study,
    MAX(CASE WHEN event = 'webinar_attended' THEN 1 ELSE 0 END) AS webinar,
    MAX(CASE WHEN event = 'newsletter_subscribed' THEN 1 ELSE 0 END) AS newsletter,
    MAX(CASE WHEN event = 'page_view' AND starts_with(path, '/careers') THEN 1 ELSE 0 END) AS careers,
    MAX(CASE WHEN event = 'unsubscribed' THEN 1 ELSE 0 END) AS unsubscribed
  FROM read_parquet('{files["events"]}')
  WHERE ts <= TIMESTAMP '{t}'
  GROUP BY lead_id
)
SELECT l.lead_id
FROM read_parquet('{files["leads"]}') AS l
LEFT JOIN read_parquet('{files["accounts"]}') AS a ON l.account_id = a.account_id
LEFT JOIN ev ON ev.lead_id = l.lead_id
WHERE (l.created_at IS NULL OR l.created_at <= TIMESTAMP '{t}')
  AND CASE WHEN regexp_matches(l.title, '{SENIOR}', 'i') THEN 15 ELSE 0 END
    + CASE WHEN a.employees BETWEEN 50 AND 250 THEN 10 ELSE 0 END
    + CASE WHEN lower(split_part(l.email, '@', 2)) LIKE '%.edu'
             OR lower(split_part(l.email, '@', 2)) LIKE '%.ac.uk' THEN -50 ELSE 0 END
    + 25 * COALESCE(ev.demo, 0) + CASE WHEN ev.pricing >= 3 THEN 15 ELSE 0 END + 30 * COALESCE(ev.trial, 0)
    + 10 * COALESCE(ev.case_study, 0) + 10 * COALESCE(ev.webinar, 0) + 5 * COALESCE(ev.newsletter, 0)
    - 20 * COALESCE(ev.careers, 0) - 25 * COALESCE(ev.unsubscribed, 0) >= 100
ORDER BY l.lead_id
"""


def pandas_mqls(files: dict[str, Path], as_of: datetime) -> list[str]:
    import pandas as pd

    t = pd.Timestamp(as_of.replace(tzinfo=None))
    events = pd.read_parquet(files["events"], columns=["lead_id", "event", "ts", "path", "asset_type"])
    events = events[events["ts"] <= t]
    path = events["path"].fillna("")
    flags = pd.DataFrame({
        "lead_id": events["lead_id"],
        "demo": events["event"] == "demo_requested",
        "pricing": (events["event"] == "page_view") & path.str.startswith("/pricing")
        & (events["ts"] > t - pd.Timedelta(days=30)),
        "trial": events["event"] == "trial_started",
        "case_study": (events["event"] == "content_downloaded") & (events["asset_type"] == "case_study"),
        "webinar": events["event"] == "webinar_attended",
        "newsletter": events["event"] == "newsletter_subscribed",
        "careers": (events["event"] == "page_view") & path.str.startswith("/careers"),
        "unsubscribed": events["event"] == "unsubscribed",
    })  # fmt: skip
    per_lead = flags.groupby("lead_id").agg({
        "demo": "any", "pricing": "sum", "trial": "any", "case_study": "any", "webinar": "any",
        "newsletter": "any", "careers": "any", "unsubscribed": "any",
    })  # fmt: skip
    leads = pd.read_parquet(files["leads"], columns=["lead_id", "email", "account_id", "created_at", "title"])
    leads = leads[leads["created_at"].isna() | (leads["created_at"] <= t)]
    accounts = pd.read_parquet(files["accounts"], columns=["account_id", "employees"])
    df = leads.merge(accounts, on="account_id", how="left").merge(
        per_lead, left_on="lead_id", right_index=True, how="left"
    )
    domain = df["email"].str.split("@").str[1].str.lower().fillna("")
    score = (
        15 * df["title"].str.contains(SENIOR, case=False, regex=True, na=False)
        + 10 * df["employees"].between(50, 250)
        - 50 * (domain.str.endswith(".edu") | domain.str.endswith(".ac.uk"))
        + 25 * df["demo"].fillna(False).astype(bool)
        + 15 * (df["pricing"].fillna(0) >= 3)
        + 30 * df["trial"].fillna(False).astype(bool)
        + 10 * df["case_study"].fillna(False).astype(bool)
        + 10 * df["webinar"].fillna(False).astype(bool)
        + 5 * df["newsletter"].fillna(False).astype(bool)
        - 20 * df["careers"].fillna(False).astype(bool)
        - 25 * df["unsubscribed"].fillna(False).astype(bool)
    )
    return sorted(df.loc[score >= 100, "lead_id"].tolist())


def pandas_per_lead_mqls(files: dict[str, Path], as_of: datetime) -> list[str]:
    import re

    import pandas as pd

    t = pd.Timestamp(as_of.replace(tzinfo=None))
    month_ago = t - pd.Timedelta(days=30)
    senior = re.compile(SENIOR, re.IGNORECASE)
    events = pd.read_parquet(files["events"], columns=["lead_id", "event", "ts", "path", "asset_type"])
    events = events[events["ts"] <= t]

    def engagement(g: pd.DataFrame) -> int:
        kinds = set(g["event"])
        paths = g.loc[g["event"] == "page_view", ["path", "ts"]]
        pricing = paths[paths["path"].fillna("").str.startswith("/pricing") & (paths["ts"] > month_ago)]
        careers = paths[paths["path"].fillna("").str.startswith("/careers")]
        downloads = g.loc[g["event"] == "content_downloaded", "asset_type"]
        points = 0
        points += 25 if "demo_requested" in kinds else 0
        points += 15 if len(pricing) >= 3 else 0
        points += 30 if "trial_started" in kinds else 0
        points += 10 if (downloads == "case_study").any() else 0
        points += 10 if "webinar_attended" in kinds else 0
        points += 5 if "newsletter_subscribed" in kinds else 0
        points -= 20 if len(careers) > 0 else 0
        points -= 25 if "unsubscribed" in kinds else 0
        return points

    per_lead = events.groupby("lead_id")[["event", "ts", "path", "asset_type"]].apply(engagement)
    leads = pd.read_parquet(files["leads"], columns=["lead_id", "email", "account_id", "created_at", "title"])
    leads = leads[leads["created_at"].isna() | (leads["created_at"] <= t)]
    accounts = pd.read_parquet(files["accounts"], columns=["account_id", "employees"])
    df = leads.merge(accounts, on="account_id", how="left")

    def fit(row: pd.Series) -> int:
        points = 0
        if isinstance(row["title"], str) and senior.search(row["title"]):
            points += 15
        if pd.notna(row["employees"]) and 50 <= row["employees"] <= 250:
            points += 10
        domain = row["email"].split("@")[1].lower() if isinstance(row["email"], str) and "@" in row["email"] else ""
        if domain.endswith(".edu") or domain.endswith(".ac.uk"):
            points -= 50
        return points

    df["score"] = df.apply(fit, axis=1) + df["lead_id"].map(per_lead).fillna(0)
    return sorted(df.loc[df["score"] >= 100, "lead_id"].tolist())
