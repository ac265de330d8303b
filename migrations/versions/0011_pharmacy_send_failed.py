"""shipments: when sending a stage to the pharmacy was given up

A stage the pharmacy rejects (a 4xx other than 409) or that still has no answer after
PHARMACY_MAX_SEND_ATTEMPTS is no longer retried by the reconciler; ops are alerted and cancel it.

Revision ID: 0011_pharmacy_send_failed
Revises: 0010_alert_dedupe
Create Date: 2026-11-27 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0011_pharmacy_send_failed"
down_revision = "0010_alert_dedupe"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("send_failed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("send_failed_at")
