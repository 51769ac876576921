"""agency visits and appointments

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 21:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import accueil.db.base

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('agency_closures',
    sa.Column('site_id', sa.String(length=26), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_agency_closures_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_closures'))
    )
    with op.batch_alter_table('agency_closures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_closures_site_id'), ['site_id'], unique=False)

    op.create_table('agency_settings',
    sa.Column('site_id', sa.String(length=26), nullable=False),
    sa.Column('opening_hours', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('counters', sa.Integer(), nullable=False),
    sa.Column('motif_codes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('closed_on_public_holidays', sa.Boolean(), nullable=False),
    sa.Column('booking_horizon_days', sa.Integer(), nullable=False),
    sa.Column('booking_lead_minutes', sa.Integer(), nullable=False),
    sa.Column('online_booking', sa.Boolean(), nullable=False),
    sa.Column('updated_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_agency_settings_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_agency_settings'))
    )
    op.create_table('appointments',
    sa.Column('site_id', sa.String(length=26), nullable=False),
    sa.Column('motif_id', sa.String(length=26), nullable=False),
    sa.Column('customer_id', sa.String(length=26), nullable=False),
    sa.Column('case_id', sa.String(length=26), nullable=False),
    sa.Column('interaction_id', sa.String(length=26), nullable=True),
    sa.Column('walk_in', sa.Boolean(), nullable=False),
    sa.Column('starts_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('counter', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('booked', 'arrived', 'in_progress', 'done', 'no_show', 'cancelled', name='appointmentstatus', native_enum=False, length=20), nullable=False),
    sa.Column('outcome', sa.Enum('resolved', 'follow_up', 'redirected', 'no_show', name='visitoutcome', native_enum=False, length=20), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_email', sa.String(length=320), nullable=True),
    sa.Column('contact_phone', sa.String(length=32), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('cancel_token_hash', sa.String(length=64), nullable=True),
    sa.Column('reminder_token_hash', sa.String(length=64), nullable=True),
    sa.Column('request_key', sa.String(length=80), nullable=True),
    sa.Column('agent_id', sa.String(length=26), nullable=True),
    sa.Column('created_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('arrived_at', accueil.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', accueil.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', accueil.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', accueil.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_appointments_agent_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_appointments_case_id_cases')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_appointments_customer_id_customers')),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'], name=op.f('fk_appointments_interaction_id_interactions')),
    sa.ForeignKeyConstraint(['motif_id'], ['motifs.id'], name=op.f('fk_appointments_motif_id_motifs')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_appointments_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments')),
    sa.UniqueConstraint('cancel_token_hash', name=op.f('uq_appointments_cancel_token_hash')),
    sa.UniqueConstraint('reminder_token_hash', name=op.f('uq_appointments_reminder_token_hash')),
    sa.UniqueConstraint('request_key', name=op.f('uq_appointments_request_key')),
    sa.UniqueConstraint('site_id', 'starts_at', 'counter', name=op.f('uq_appointments_site_id_starts_at_counter'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_appointments_site_starts', ['site_id', 'starts_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_site_starts')
        batch_op.drop_index(batch_op.f('ix_appointments_customer_id'))
        batch_op.drop_index(batch_op.f('ix_appointments_case_id'))

    op.drop_table('appointments')
    op.drop_table('agency_settings')
    with op.batch_alter_table('agency_closures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_closures_site_id'))

    op.drop_table('agency_closures')
