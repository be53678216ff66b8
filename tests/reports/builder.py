"""A small fixture builder: lifecycle rows written straight into the store's tables, so report tests do not
depend on the lifecycle code that normally writes them.  Times are ``"2026-03-02 09:00"`` strings (UTC).

    b = Builder(store)
    v1 = b.version("1")
    b.lead("A", "2026-03-02 09:00", channel="paid_search", source="google", campaign="spring")
    mql = b.mql("A", "2026-03-03 09:00", version=v1)
    b.assign("A", "2026-03-03 09:00", sla=3600, touched="2026-03-03 09:30", mql=mql)
    b.move("A", "sql", "2026-03-04 10:00")
    b.opportunity("o1", "A", 1000, created="2026-03-05 00:00", status="won")
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from leadgate.store.models import DefinitionVersion, Lead, Score, StageChange
from leadgate.store.models_lifecycle import Assignment, LeadAttribution, Opportunity
from leadgate.store.store import Store, to_micros


def t(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


class Builder:
    def __init__(self, store: Store):
        self.store = store

    def _insert(self, model: Any, **values: Any) -> Any:
        """Insert one row; its primary key."""
        with self.store.engine.begin() as conn:
            return conn.execute(insert(model.__table__).values(**values)).inserted_primary_key[0]

    def version(self, version: str, name: str = "classic") -> int:
        return self._insert(
            DefinitionVersion,
            name=name,
            version=version,
            source="",
            sha256="0" * 64,
            author="tests",
            created_at=t("2026-01-01 00:00"),
            active=False,
        )

    def lead(
        self,
        lead_id: str,
        created: str,
        *,
        known: bool = True,
        merged_into: str | None = None,
        channel: str | None = None,
        source: str | None = None,
        campaign: str | None = None,
    ) -> str:
        """A lead; with ``channel`` (and optionally source / campaign) it also gets a first touch."""
        when = t(created)
        self._insert(
            Lead,
            id=lead_id,
            created_at=when,
            created_us=to_micros(when),
            updated_at=when,
            traits={},
            known=known,
            stage="subscriber",
            merged_into=merged_into,
        )
        if channel is not None:
            self._insert(
                LeadAttribution,
                lead_id=lead_id,
                channel=channel,
                source=source,
                campaign=campaign,
                first_seen_at=when,
                updated_at=when,
            )
        return lead_id

    def move(
        self,
        lead_id: str,
        to: str,
        at: str,
        *,
        reason: str = "",
        cause: str = "feedback",
        version: int | None = None,
        mql_type: str | None = None,
        basis: str | None = None,
        motion: str | None = None,
    ) -> int:
        """A stage change (any stage, any cause)."""
        return self._insert(
            StageChange,
            lead_id=lead_id,
            from_stage=None,
            to_stage=to,
            at=t(at),
            reason=reason,
            actor="tests",
            definition_version_id=version,
            details={},
            cause=cause,
            mql_type=mql_type,
            mql_basis=basis,
            mql_motion=motion,
        )

    def mql(
        self,
        lead_id: str,
        at: str,
        *,
        type: str = "new",
        version: int | None = None,
        cause: str = "score",
        basis: str | None = None,
        motion: str | None = None,
    ) -> int:
        """A move to mql with its type, basis (fit / intent) and motion (product_led / sales_led)."""
        reason = "qualified:score"
        return self.move(
            lead_id, "mql", at, reason=reason, cause=cause, version=version, mql_type=type, basis=basis, motion=motion
        )

    def assign(
        self,
        lead_id: str,
        at: str,
        *,
        sla: float | None = None,
        touched: str | None = None,
        closed: str | None = None,
        breached: str | None = None,
        mql: int | None = None,
    ) -> int:
        """An assignment made at ``at`` with an SLA of ``sla`` seconds, touched / closed / breached when given."""
        when = t(at)
        first = None if touched is None else t(touched)
        return self._insert(
            Assignment,
            lead_id=lead_id,
            stage_change_id=mql,
            route="default",
            team="sdr",
            owner="alice",
            method="round_robin",
            assigned_at=when,
            sla_seconds=sla,
            sla_due_at=None if sla is None else when + timedelta(seconds=sla),
            first_touch_at=first,
            speed_to_lead_seconds=None if first is None else (first - when).total_seconds(),
            breached_at=None if breached is None else t(breached),
            status="closed" if closed else ("touched" if first else "open"),
            closed_at=None if closed is None else t(closed),
        )

    def opportunity(
        self,
        opp_id: str,
        lead_id: str | None,
        amount: float,
        *,
        created: str,
        status: str = "open",
        currency: str = "USD",
    ) -> str:
        when = t(created)
        self._insert(
            Opportunity,
            id=opp_id,
            lead_id=lead_id,
            amount=amount,
            currency=currency,
            stage=status,
            status=status,
            source="api",
            created_at=when,
            updated_at=when,
        )
        return opp_id

    def score(self, lead_id: str, *, version: int, disqualify: list[str], qualified: bool = False) -> None:
        """A current score whose explanation names the definition's disqualify reasons."""
        when = t("2026-04-01 00:00")
        self._insert(
            Score,
            lead_id=lead_id,
            definition_version_id=version,
            as_of=when,
            fit=0.0,
            engagement=0.0,
            total=0.0,
            qualified=qualified,
            grade="D",
            level=1,
            explanation={"lead_id": lead_id, "disqualify_reasons": disqualify},
            updated_at=when,
        )
