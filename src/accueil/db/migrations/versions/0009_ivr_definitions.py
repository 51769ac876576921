"""ivr definitions

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 21:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import accueil.db.base

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'ivr_flows',
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('updated_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=26), nullable=True),
        sa.Column('id', sa.String(length=26), nullable=False),
        sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_ivr_flows_updated_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_flows')),
        sa.UniqueConstraint('code', name=op.f('uq_ivr_flows_code')),
    )
    with op.batch_alter_table('voice_calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('callback_id', sa.String(length=26), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_voice_calls_callback_id_callbacks'), 'callbacks',
                                    ['callback_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('voice_calls', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_voice_calls_callback_id_callbacks'), type_='foreignkey')
        batch_op.drop_column('callback_id')
    op.drop_table('ivr_flows')
