"""Which leads are scored together.  A definition with an ``account:`` section reads every lead of an
account (account engagement is their engagement summed), so scoring some leads means scoring their
accounts' other live leads too: they are in the views the query reads, and their scores and MQL decisions
are recorded with the rest (one person's event can make a colleague's account qualify)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadgate.store.models import Lead

CHUNK = 500


def with_account_peers(s: Session, lead_ids: Sequence[str]) -> list[str]:
    """``lead_ids`` and every live lead that shares an account with one of them, sorted."""
    accounts: set[str] = set()
    for start in range(0, len(lead_ids), CHUNK):
        chunk = lead_ids[start : start + CHUNK]
        accounts.update(s.scalars(select(Lead.account_id).where(Lead.id.in_(chunk), Lead.account_id.is_not(None))))
    peers: set[str] = set(lead_ids)
    wanted = sorted(accounts)
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        peers.update(s.scalars(select(Lead.id).where(Lead.account_id.in_(chunk), Lead.merged_into.is_(None))))
    return sorted(peers)
