"""messages: identify, group and alias messages kept raw and idempotent by message id; scores of merged
leads removed (a merged lead is scored through its survivor)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("lead_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_messages_lead_id_leads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("message_id", name=op.f("uq_messages_message_id")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_received_at"), ["received_at"], unique=False)
    # Before 0007 a merge left the merged lead's score behind: it counted in "qualified now" and showed on
    # the merged lead.  The survivor's own score already counts its history.
    op.execute("DELETE FROM scores WHERE lead_id IN (SELECT id FROM leads WHERE merged_into IS NOT NULL)")


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_received_at"))
        batch_op.drop_index(batch_op.f("ix_messages_lead_id"))
    op.drop_table("messages")
