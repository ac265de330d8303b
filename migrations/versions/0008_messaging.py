"""messaging: the SMS outbox, SMS consent per phone number, and texts received

Revision ID: 0008_messaging
Revises: 0007_pharmacy_reconcile
Create Date: 2026-11-28 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0008_messaging"
down_revision = "0007_pharmacy_reconcile"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_phone", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.Enum("routine", "reply", "crisis", "staff", name="message_priority",
                                      native_enum=False, create_constraint=True, length=20), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Enum("pending", "sending", "sent", "failed", "suppressed", "cancelled",
                                    name="outbound_message_status", native_enum=False, create_constraint=True,
                                    length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("uncertain", sa.Boolean(), nullable=False),
        sa.Column("provider_sid", sa.String(length=64), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dedupe_key", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["users.id"], name=op.f("fk_outbound_messages_patient_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbound_messages_dedupe_key")),
        sa.UniqueConstraint("provider_sid", name=op.f("uq_outbound_messages_provider_sid")),
    )
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbound_messages_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index("ix_outbound_messages_due", ["status", "not_before"], unique=False)
        batch_op.create_index("ix_outbound_messages_lease", ["status", "lease_until"], unique=False)
        batch_op.create_index("ix_outbound_messages_to_status", ["to_phone", "status"], unique=False)

    op.create_table(
        "sms_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("phone_e164", sa.String(length=16), nullable=False),
        sa.Column("opted_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wording", sa.Text(), nullable=True),
        sa.Column("wording_version", sa.String(length=20), nullable=True),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opt_out_keyword", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sms_consents_user_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_consents")),
        sa.UniqueConstraint("phone_e164", name=op.f("uq_sms_consents_phone_e164")),
    )
    with op.batch_alter_table("sms_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_consents_user_id"), ["user_id"], unique=False)

    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("from_phone", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("handled_as", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_inbound_messages_user_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("message_sid", name=op.f("uq_inbound_messages_message_sid")),
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_messages_from_phone"), ["from_phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbound_messages_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_messages_user_id"))
        batch_op.drop_index(batch_op.f("ix_inbound_messages_from_phone"))
    op.drop_table("inbound_messages")
    with op.batch_alter_table("sms_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_consents_user_id"))
    op.drop_table("sms_consents")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_messages_to_status")
        batch_op.drop_index("ix_outbound_messages_lease")
        batch_op.drop_index("ix_outbound_messages_due")
        batch_op.drop_index(batch_op.f("ix_outbound_messages_patient_id"))
    op.drop_table("outbound_messages")
