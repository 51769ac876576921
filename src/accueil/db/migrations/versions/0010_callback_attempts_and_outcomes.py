"""callback attempts and outcomes

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 21:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accueil.db.base

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # New statuses (done, closed, exhausted) need no change: the status is a plain string column.
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=False, server_default='fr'))
        batch_op.add_column(sa.Column('email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('asap', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('kept_position_of', sa.String(length=26), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_callbacks_kept_position_of_interactions'), 'interactions',
                                    ['kept_position_of'], ['id'])

    op.create_table('callback_attempts',
    sa.Column('callback_id', sa.String(length=26), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('interaction_id', sa.String(length=26), nullable=False),
    sa.Column('agent_id', sa.String(length=26), nullable=True),
    sa.Column('outcome', sa.Enum('reached', 'no_answer', 'voicemail', 'wrong_number', name='callbackoutcome', native_enum=False, length=20), nullable=True),
    sa.Column('queued_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('at', accueil.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_callback_attempts_agent_id_users')),
    sa.ForeignKeyConstraint(['callback_id'], ['callbacks.id'], name=op.f('fk_callback_attempts_callback_id_callbacks')),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'], name=op.f('fk_callback_attempts_interaction_id_interactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_attempts')),
    sa.UniqueConstraint('callback_id', 'number', name=op.f('uq_callback_attempts_callback_id_number'))
    )


def downgrade() -> None:
    op.drop_table('callback_attempts')
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_callbacks_kept_position_of_interactions'), type_='foreignkey')
        batch_op.drop_column('kept_position_of')
        batch_op.drop_column('asap')
        batch_op.drop_column('email')
        batch_op.drop_column('language')
