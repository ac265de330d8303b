"""clinical alerts: a key that makes an alert raised by a sweep exactly once; ops alerts

A scheduler sweep (overdue reviews, shipment SLA breaches, unanswered check-ins) may run in two
processes by mistake: the unique key lets only one of them write the alert.

Revision ID: 0010_alert_dedupe
Revises: 0009_home_sessions
Create Date: 2026-11-26 11:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0010_alert_dedupe"
down_revision = "0009_home_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("clinical_alerts") as batch:
        batch.add_column(sa.Column("dedupe_key", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("shipment_id", sa.Integer(), nullable=True))
        batch.create_unique_constraint("uq_clinical_alerts_dedupe_key", ["dedupe_key"])
        batch.create_foreign_key(op.f("fk_clinical_alerts_shipment_id_shipments"), "shipments", ["shipment_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index("ix_clinical_alerts_recipient_status", ["recipient", "status"])
    with op.batch_alter_table("assessments") as batch:
        batch.create_index("ix_assessments_review_due", ["first_reviewed_at", "review_due_at"])


def downgrade():
    with op.batch_alter_table("assessments") as batch:
        batch.drop_index("ix_assessments_review_due")
    with op.batch_alter_table("clinical_alerts") as batch:
        batch.drop_index("ix_clinical_alerts_recipient_status")
        batch.drop_constraint("fk_clinical_alerts_shipment_id_shipments", type_="foreignkey")
        batch.drop_constraint("uq_clinical_alerts_dedupe_key", type_="unique")
        batch.drop_column("shipment_id")
        batch.drop_column("dedupe_key")
