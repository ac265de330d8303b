"""care notes: physician follow-up decisions, treatment phases, retake requests, coaching notes

Follow-up decisions are append-only (the ORM refuses updates and deletes); a patient's treatment
phase (active, maintenance, discharged; "paused" is the open treatment pauses) has a row once a
physician changed it; a retake request records that the patient was texted a link to retake PHQ-9
and GAD-7 before a follow-up (once per appointment); coaching notes keep a private note and a
patient summary, both encrypted. Appointments gain an index by type and start for the sweep.

Revision ID: 0013_care_notes
Revises: 0012_timeline_indexes
Create Date: 2026-11-26 11:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0013_care_notes"
down_revision = "0012_timeline_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('follow_up_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('physician_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.Enum('continue', 'adjust', 'pause', 'resume', 'discharge', 'maintenance', name='follow_up_decision', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('prescription_id', sa.Integer(), nullable=True),
    sa.Column('released_shipment_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_follow_up_decisions_appointment_id_appointments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_follow_up_decisions_patient_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['physician_id'], ['users.id'], name=op.f('fk_follow_up_decisions_physician_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['prescription_id'], ['prescriptions.id'], name=op.f('fk_follow_up_decisions_prescription_id_prescriptions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['released_shipment_id'], ['shipments.id'], name=op.f('fk_follow_up_decisions_released_shipment_id_shipments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_decisions'))
    )
    with op.batch_alter_table('follow_up_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_decisions_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index('ix_follow_up_decisions_patient_decided', ['patient_id', 'decided_at'], unique=False)

    op.create_table('treatment_phases',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.Enum('active', 'maintenance', 'discharged', name='treatment_phase', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by'], ['users.id'], name=op.f('fk_treatment_phases_changed_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_treatment_phases_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_treatment_phases'))
    )

    op.create_table('follow_up_retake_requests',
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_follow_up_retake_requests_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['outbound_messages.id'], name=op.f('fk_follow_up_retake_requests_message_id_outbound_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_follow_up_retake_requests_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('appointment_id', name=op.f('pk_follow_up_retake_requests'))
    )
    with op.batch_alter_table('follow_up_retake_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_retake_requests_patient_id'), ['patient_id'], unique=False)

    op.create_table('coaching_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('coach_id', sa.Integer(), nullable=False),
    sa.Column('private_note', sa.Text(), nullable=False),
    sa.Column('patient_summary', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_coaching_notes_appointment_id_appointments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['coach_id'], ['users.id'], name=op.f('fk_coaching_notes_coach_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_coaching_notes_patient_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_notes')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_coaching_notes_appointment_id'))
    )
    with op.batch_alter_table('coaching_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coaching_notes_coach_id'), ['coach_id'], unique=False)
        batch_op.create_index('ix_coaching_notes_patient_created', ['patient_id', 'created_at'], unique=False)

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_type_start', ['appointment_type', 'starts_at'], unique=False)


def downgrade():
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_type_start')
    with op.batch_alter_table('coaching_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_coaching_notes_patient_created')
        batch_op.drop_index(batch_op.f('ix_coaching_notes_coach_id'))
    op.drop_table('coaching_notes')
    with op.batch_alter_table('follow_up_retake_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_retake_requests_patient_id'))
    op.drop_table('follow_up_retake_requests')
    op.drop_table('treatment_phases')
    with op.batch_alter_table('follow_up_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_decisions_patient_decided')
        batch_op.drop_index(batch_op.f('ix_follow_up_decisions_appointment_id'))
    op.drop_table('follow_up_decisions')
