"""indexes for the patient timeline and the physician's work list

The timeline reads a patient's texts newest first (outbound_messages by patient and time); the
work list finds the stages whose sessions are done and wait for the physician's release (a partial
index: few rows ever match).

Revision ID: 0012_timeline_indexes
Revises: 0011_pharmacy_send_failed
Create Date: 2026-11-28 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0012_timeline_indexes"
down_revision = "0011_pharmacy_send_failed"
branch_labels = None
depends_on = None

AWAITING_RELEASE = "sessions_completed_at IS NOT NULL AND next_stage_released_at IS NULL"


def upgrade():
    with op.batch_alter_table("outbound_messages") as batch:
        batch.create_index("ix_outbound_messages_patient_created", ["patient_id", "created_at"])
    with op.batch_alter_table("shipments") as batch:
        batch.create_index("ix_shipments_awaiting_release", ["patient_id"],
                           postgresql_where=sa.text(AWAITING_RELEASE), sqlite_where=sa.text(AWAITING_RELEASE))


def downgrade():
    with op.batch_alter_table("shipments") as batch:
        batch.drop_index("ix_shipments_awaiting_release")
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_index("ix_outbound_messages_patient_created")
