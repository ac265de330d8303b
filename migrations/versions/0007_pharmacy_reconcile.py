"""shipments: a cancellation asked of the pharmacy, and how often a stage was sent

A stage is committed before it is sent to the pharmacy and a cancellation is committed as asked
before the pharmacy is told, so an answer lost on the way leaves a row that the reconciler retries
(with the same reference, which the pharmacy deduplicates) instead of an order nobody knows of.

Revision ID: 0007_pharmacy_reconcile
Revises: 0006_shipments
Create Date: 2026-11-26 11:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0007_pharmacy_reconcile"
down_revision = "0006_shipments"
branch_labels = None
depends_on = None


def upgrade():
    # The pharmacy's idempotency key for a stage, unique for good (ids can be reused on SQLite).
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("pharmacy_reference", sa.String(length=64), nullable=True))
    op.execute("UPDATE shipments SET pharmacy_reference = 'shipment-' || id")
    with op.batch_alter_table("shipments") as batch:
        batch.alter_column("pharmacy_reference", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint("uq_shipments_pharmacy_reference", ["pharmacy_reference"])
        batch.add_column(sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("send_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_send_error", sa.String(length=200), nullable=True))
        batch.create_index("ix_shipments_status_id", ["status", "id"])


def downgrade():
    with op.batch_alter_table("shipments") as batch:
        batch.drop_index("ix_shipments_status_id")
        batch.drop_column("last_send_error")
        batch.drop_column("send_attempts")
        batch.drop_column("cancel_requested_at")
        batch.drop_constraint("uq_shipments_pharmacy_reference", type_="unique")
        batch.drop_column("pharmacy_reference")
