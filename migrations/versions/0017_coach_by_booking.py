"""care assignments: a coach put on the care team by a booked coaching session

`via_booking` marks an assignment made because the patient booked a coaching session with that
coach (not by admin or ops): it lasts while the patient has a booked or held coaching session with
the coach that is upcoming or within the note-writing window, and the `care_team_sweep` job ends it
after that.

Revision ID: 0017_coach_by_booking
Revises: 0016_on_call_rota
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0017_coach_by_booking"
down_revision = "0016_on_call_rota"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("care_assignments") as batch:
        batch.add_column(sa.Column("via_booking", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("care_assignments") as batch:
        batch.drop_column("via_booking")
