"""at-home sessions: sessions, blood-pressure readings, check-ins, adverse events, treatment pauses

Also the shipments' review flag (`sessions_completed_at`): set when every session a delivered stage
supplied is done and its post check-in answered; the next stage is released only after it.
Chained after 0007 for now; re-chained after 0008 when that lands.

Revision ID: 0009_home_sessions
Revises: 0008_messaging
Create Date: 2026-11-26 10:55:10

"""
from alembic import op
import sqlalchemy as sa


revision = "0009_home_sessions"
down_revision = "0008_messaging"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('home_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('prescription_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('scheduled_for', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'started', 'completed', 'cancelled', 'missed', 'ended_early', name='home_session_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('sitter_name', sa.Text(), nullable=False),
    sa.Column('sitter_phone', sa.Text(), nullable=False),
    sa.Column('sitter_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('gate_results', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_home_sessions_patient_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['prescription_id'], ['prescriptions.id'], name=op.f('fk_home_sessions_prescription_id_prescriptions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_home_sessions'))
    )
    with op.batch_alter_table('home_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_home_sessions_patient_scheduled', ['patient_id', 'scheduled_for'], unique=False)
        batch_op.create_index(batch_op.f('ix_home_sessions_prescription_id'), ['prescription_id'], unique=False)

    op.create_table('adverse_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('grade', sa.Enum('mild', 'moderate', 'serious', name='adverse_grade', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cleared_by', sa.Integer(), nullable=True),
    sa.Column('clearance_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['cleared_by'], ['users.id'], name=op.f('fk_adverse_events_cleared_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_adverse_events_patient_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['home_sessions.id'], name=op.f('fk_adverse_events_session_id_home_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adverse_events'))
    )
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.create_index('ix_adverse_events_patient_cleared', ['patient_id', 'cleared_at'], unique=False)

    op.create_table('blood_pressure_readings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('systolic', sa.Integer(), nullable=False),
    sa.Column('diastolic', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.Enum('app', 'sms', name='bp_source', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('band', sa.Enum('go', 'no_go', 'urgent', name='bp_band', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_blood_pressure_readings_patient_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['home_sessions.id'], name=op.f('fk_blood_pressure_readings_session_id_home_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blood_pressure_readings'))
    )
    with op.batch_alter_table('blood_pressure_readings', schema=None) as batch_op:
        batch_op.create_index('ix_blood_pressure_readings_patient_taken', ['patient_id', 'taken_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_blood_pressure_readings_session_id'), ['session_id'], unique=False)

    op.create_table('check_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('pre', 'post', 'next_day', name='check_in_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'prompted', 'reminded', 'escalated', 'answered', 'expired', name='check_in_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('prompted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answers', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['home_sessions.id'], name=op.f('fk_check_ins_session_id_home_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_ins')),
    sa.UniqueConstraint('session_id', 'kind', name='uq_check_ins_session_id_kind')
    )
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.create_index('ix_check_ins_status_due', ['status', 'due_at'], unique=False)

    op.create_table('treatment_pauses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('adverse_event_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_by', sa.Integer(), nullable=True),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cleared_by', sa.Integer(), nullable=True),
    sa.Column('clearance_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['adverse_event_id'], ['adverse_events.id'], name=op.f('fk_treatment_pauses_adverse_event_id_adverse_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cleared_by'], ['users.id'], name=op.f('fk_treatment_pauses_cleared_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_treatment_pauses_patient_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['started_by'], ['users.id'], name=op.f('fk_treatment_pauses_started_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treatment_pauses'))
    )
    with op.batch_alter_table('treatment_pauses', schema=None) as batch_op:
        batch_op.create_index('ix_treatment_pauses_patient_cleared', ['patient_id', 'cleared_at'], unique=False)

    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sessions_completed_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_column('sessions_completed_at')

    with op.batch_alter_table('treatment_pauses', schema=None) as batch_op:
        batch_op.drop_index('ix_treatment_pauses_patient_cleared')

    op.drop_table('treatment_pauses')
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.drop_index('ix_check_ins_status_due')

    op.drop_table('check_ins')
    with op.batch_alter_table('blood_pressure_readings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blood_pressure_readings_session_id'))
        batch_op.drop_index('ix_blood_pressure_readings_patient_taken')

    op.drop_table('blood_pressure_readings')
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.drop_index('ix_adverse_events_patient_cleared')

    op.drop_table('adverse_events')
    with op.batch_alter_table('home_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_home_sessions_prescription_id'))
        batch_op.drop_index('ix_home_sessions_patient_scheduled')

    op.drop_table('home_sessions')
