"""record releases: a patient's consent to share progress with their own mental-health provider

One row per release: the recipient (name, organisation and contact, encrypted: they say the patient
has a mental-health provider), what may be shared, the exact words agreed to, when it was granted,
when it expires and when it was revoked. Chained after 0011 for now; re-chained when the other
parts of issue 8 land.

Revision ID: 0015_releases
Revises: 0013_care_notes
Create Date: 2026-11-28 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0015_releases"
down_revision = "0013_care_notes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('record_releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('recipient_name', sa.Text(), nullable=False),
    sa.Column('recipient_organization', sa.Text(), nullable=False),
    sa.Column('recipient_contact', sa.Text(), nullable=True),
    sa.Column('scope', sa.String(length=30), nullable=False),
    sa.Column('wording', sa.Text(), nullable=False),
    sa.Column('wording_version', sa.String(length=20), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_record_releases_patient_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_releases'))
    )
    with op.batch_alter_table('record_releases', schema=None) as batch_op:
        batch_op.create_index('ix_record_releases_patient_granted', ['patient_id', 'granted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('record_releases', schema=None) as batch_op:
        batch_op.drop_index('ix_record_releases_patient_granted')
    op.drop_table('record_releases')
