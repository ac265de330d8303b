"""on-call rota: who is on call when and at which phone; each page of an urgent alert; physicians' phones

`on_call_shifts` never overlap (PostgreSQL holds this with an exclusion constraint; SQLite runs
write transactions one at a time and the rota service checks). `alert_pages` records who was paged
for which alert in which round, and `clinical_alerts.page_rounds` is what the re-page sweep claims
with a conditional UPDATE, so two scheduler processes page once.

Revision ID: 0016_on_call_rota
Revises: 0015_releases
Create Date: 2026-12-03 09:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0016_on_call_rota"
down_revision = "0015_releases"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('on_call_shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('physician_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('phone_e164', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_on_call_shifts_time_order')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_on_call_shifts_created_by_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['physician_id'], ['users.id'], name=op.f('fk_on_call_shifts_physician_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_on_call_shifts'))
    )
    with op.batch_alter_table('on_call_shifts', schema=None) as batch_op:
        batch_op.create_index('ix_on_call_shifts_starts_ends', ['starts_at', 'ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_on_call_shifts_physician_id'), ['physician_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE on_call_shifts ADD CONSTRAINT ex_on_call_shifts_overlap "
                   "EXCLUDE USING gist (tstzrange(starts_at, ends_at, '[)') WITH &&)")

    op.create_table('alert_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('phone_e164', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('paged_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['clinical_alerts.id'], name=op.f('fk_alert_pages_alert_id_clinical_alerts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_pages_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_pages')),
    sa.UniqueConstraint('alert_id', 'round', 'phone_e164', name='uq_alert_pages_alert_round_phone')
    )
    with op.batch_alter_table('alert_pages', schema=None) as batch_op:
        batch_op.create_index('ix_alert_pages_user_alert', ['user_id', 'alert_id'], unique=False)

    with op.batch_alter_table('clinical_alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_rounds', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_paged_at', sa.DateTime(timezone=True), nullable=True))
    # alerts delivered before the rota counted as paged once, at delivery
    op.execute("UPDATE clinical_alerts SET page_rounds = 1, last_paged_at = delivered_at "
               "WHERE delivered_at IS NOT NULL")

    with op.batch_alter_table('physician_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_e164', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('physician_profiles', schema=None) as batch_op:
        batch_op.drop_column('phone_e164')
    with op.batch_alter_table('clinical_alerts', schema=None) as batch_op:
        batch_op.drop_column('last_paged_at')
        batch_op.drop_column('page_rounds')
    with op.batch_alter_table('alert_pages', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_pages_user_alert')
    op.drop_table('alert_pages')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE on_call_shifts DROP CONSTRAINT IF EXISTS ex_on_call_shifts_overlap")
    with op.batch_alter_table('on_call_shifts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_on_call_shifts_physician_id'))
        batch_op.drop_index('ix_on_call_shifts_starts_ends')
    op.drop_table('on_call_shifts')
