"""integration journal: what a patient writes after their sessions, private unless shared

One row per entry: its patient, the at-home session it is about (optional), the text (encrypted),
when the patient shared it with their coach (null: private), when it was written and last edited.

Revision ID: 0018_integration_journal
Revises: 0017_coach_by_booking
Create Date: 2026-12-03 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0018_integration_journal"
down_revision = "0017_coach_by_booking"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('journal_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('shared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_journal_entries_patient_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['home_sessions.id'], name=op.f('fk_journal_entries_session_id_home_sessions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entries'))
    )
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.create_index('ix_journal_entries_patient_created', ['patient_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entries_patient_created')
    op.drop_table('journal_entries')
