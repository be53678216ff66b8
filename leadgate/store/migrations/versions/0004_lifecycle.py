"""lifecycle, routing and SLAs, sales feedback, revenue, attribution, consent, webhook outbox (issue 4)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 13:20:58.587892
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.String(length=200), nullable=True),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_event_type"), ["event_type"], unique=False)
        batch_op.create_index("ix_outbox_lead_id", ["lead_id", "id"], unique=False)

    op.create_table(
        "routing_cursors",
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team", name=op.f("pk_routing_cursors")),
    )
    op.create_table(
        "routing_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_versions")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_routing_versions_name")),
    )
    with op.batch_alter_table("routing_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routing_versions_active"), ["active"], unique=False)

    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("event_types", sa.String(length=1000), nullable=False),
        sa.Column("respect_consent", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_subscriptions_active"), ["active"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("outbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("locked_by", sa.String(length=64), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_webhook_deliveries_outbox_id_outbox")),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("outbox_id", "subscription_id", name=op.f("uq_webhook_deliveries_outbox_id")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_chain", ["subscription_id", "lead_id", "status", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_outbox_id"), ["outbox_id"], unique=False)
        batch_op.create_index("ix_webhook_deliveries_ready", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "lead_attribution",
        sa.Column("lead_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("medium", sa.String(length=200), nullable=True),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("content", sa.String(length=200), nullable=True),
        sa.Column("term", sa.String(length=200), nullable=True),
        sa.Column("referrer", sa.String(length=1000), nullable=True),
        sa.Column("landing_page", sa.String(length=1000), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_lead_attribution_lead_id_leads")),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_lead_attribution")),
    )
    with op.batch_alter_table("lead_attribution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_attribution_campaign"), ["campaign"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_attribution_channel"), ["channel"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_attribution_source"), ["source"], unique=False)

    op.create_table(
        "lead_consent",
        sa.Column("lead_id", sa.String(length=200), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=True),
        sa.Column("sms", sa.Boolean(), nullable=True),
        sa.Column("sales_contact", sa.Boolean(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_lead_consent_lead_id_leads")),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_lead_consent")),
    )
    op.create_table(
        "opportunities",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("lead_id", sa.String(length=200), nullable=True),
        sa.Column("account_id", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("lost_reason", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_opportunities_account_id_accounts")),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_opportunities_lead_id_leads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
    )
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opportunities_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunities_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunities_status"), ["status"], unique=False)

    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("response", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["webhook_deliveries.id"], name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_attempts_delivery_id"), ["delivery_id"], unique=False)

    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.String(length=200), nullable=False),
        sa.Column("stage_change_id", sa.Integer(), nullable=True),
        sa.Column("routing_version_id", sa.Integer(), nullable=True),
        sa.Column("route", sa.String(length=64), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.Column("sla_seconds", sa.Float(), nullable=True),
        sa.Column("sla_due_at", sa.DateTime(), nullable=True),
        sa.Column("first_touch_at", sa.DateTime(), nullable=True),
        sa.Column("first_touch_by", sa.String(length=200), nullable=True),
        sa.Column("first_touch_channel", sa.String(length=32), nullable=True),
        sa.Column("speed_to_lead_seconds", sa.Float(), nullable=True),
        sa.Column("breached_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_assignments_lead_id_leads")),
        sa.ForeignKeyConstraint(
            ["routing_version_id"],
            ["routing_versions.id"],
            name=op.f("fk_assignments_routing_version_id_routing_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["stage_change_id"], ["stage_changes.id"], name=op.f("fk_assignments_stage_change_id_stage_changes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index("ix_assignments_due", ["status", "sla_due_at"], unique=False)
        batch_op.create_index("ix_assignments_lead_at", ["lead_id", "assigned_at"], unique=False)
        batch_op.create_index("ix_assignments_owner_status", ["owner", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignments_team"), ["team"], unique=False)

    op.create_table(
        "sales_feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("stage_change_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_sales_feedback_assignment_id_assignments")
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_sales_feedback_lead_id_leads")),
        sa.ForeignKeyConstraint(
            ["stage_change_id"], ["stage_changes.id"], name=op.f("fk_sales_feedback_stage_change_id_stage_changes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_feedback")),
    )
    with op.batch_alter_table("sales_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sales_feedback_action"), ["action"], unique=False)
        batch_op.create_index("ix_sales_feedback_lead_at", ["lead_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_feedback_reason"), ["reason"], unique=False)

    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("mql_type", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("mql_basis", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("mql_motion", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("score", sa.Float(), nullable=True))
        batch_op.create_index("ix_stage_changes_to_at", ["to_stage", "at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_stage_changes_to_at")
        batch_op.drop_column("score")
        batch_op.drop_column("mql_motion")
        batch_op.drop_column("mql_basis")
        batch_op.drop_column("mql_type")
        batch_op.drop_column("cause")

    with op.batch_alter_table("sales_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_feedback_reason"))
        batch_op.drop_index("ix_sales_feedback_lead_at")
        batch_op.drop_index(batch_op.f("ix_sales_feedback_action"))

    op.drop_table("sales_feedback")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_team"))
        batch_op.drop_index("ix_assignments_owner_status")
        batch_op.drop_index("ix_assignments_lead_at")
        batch_op.drop_index("ix_assignments_due")

    op.drop_table("assignments")
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_attempts_delivery_id"))

    op.drop_table("webhook_attempts")
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunities_status"))
        batch_op.drop_index(batch_op.f("ix_opportunities_lead_id"))
        batch_op.drop_index(batch_op.f("ix_opportunities_account_id"))

    op.drop_table("opportunities")
    op.drop_table("lead_consent")
    with op.batch_alter_table("lead_attribution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_attribution_source"))
        batch_op.drop_index(batch_op.f("ix_lead_attribution_channel"))
        batch_op.drop_index(batch_op.f("ix_lead_attribution_campaign"))

    op.drop_table("lead_attribution")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_ready")
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_outbox_id"))
        batch_op.drop_index("ix_webhook_deliveries_chain")

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_subscriptions_active"))

    op.drop_table("webhook_subscriptions")
    with op.batch_alter_table("routing_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_versions_active"))

    op.drop_table("routing_versions")
    op.drop_table("routing_cursors")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_lead_id")
        batch_op.drop_index(batch_op.f("ix_outbox_event_type"))
        batch_op.drop_index(batch_op.f("ix_outbox_created_at"))

    op.drop_table("outbox")
