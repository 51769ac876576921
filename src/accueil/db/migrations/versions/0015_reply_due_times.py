"""reply-delay targets: interactions.reply_due_at, motifs.reply_targets, the awaiting-reply index

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:10:00

Existing written contacts still awaiting their first reply (inbound e-mail, web form or letter, not
answered, not ended) get their due time from the settings in force (ACCUEIL_REPLY_TARGET_* over
ACCUEIL_WRITTEN_OPENING_HOURS...), so the console and the wallboard show today's backlog at once;
answered or ended ones keep NULL ("no target": nothing is owed any more).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import accueil.db.base
from accueil.config import get_settings
from accueil.core.calendar import parse_delay

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AWAITING_REPLY = sa.text("reply_due_at IS NOT NULL AND answered_at IS NULL AND ended_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table('motifs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_targets', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                                      nullable=True))
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_due_at', accueil.db.base.UTCDateTime(timezone=True), nullable=True))
    _backfill()
    op.create_index('ix_interactions_awaiting_reply', 'interactions', ['reply_due_at'], unique=False,
                    postgresql_where=AWAITING_REPLY, sqlite_where=AWAITING_REPLY)


def _backfill() -> None:
    settings = get_settings()
    calendar = settings.written_calendar()
    delays = {channel: parse_delay(text) for channel, text in (
        ("email", settings.reply_target_email), ("webform", settings.reply_target_webform),
        ("letter", settings.reply_target_letter)) if text}
    if not delays:
        return
    interactions = sa.table('interactions', sa.column('id', sa.String), sa.column('channel', sa.String),
                            sa.column('direction', sa.String),
                            sa.column('arrived_at', accueil.db.base.UTCDateTime(timezone=True)),
                            sa.column('answered_at'), sa.column('ended_at'),
                            sa.column('reply_due_at', accueil.db.base.UTCDateTime(timezone=True)))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(interactions.c.id, interactions.c.channel, interactions.c.arrived_at).where(
            interactions.c.channel.in_(sorted(delays)), interactions.c.direction == 'inbound',
            interactions.c.answered_at.is_(None), interactions.c.ended_at.is_(None))
    ).all()
    updates = [{'b_id': row.id, 'due': delays[row.channel].due(row.arrived_at, calendar)} for row in rows]
    statement = (interactions.update().where(interactions.c.id == sa.bindparam('b_id'))
                 .values(reply_due_at=sa.bindparam('due')))
    for start in range(0, len(updates), 1000):
        connection.execute(statement, updates[start:start + 1000])


def downgrade() -> None:
    op.drop_index('ix_interactions_awaiting_reply', table_name='interactions',
                  postgresql_where=AWAITING_REPLY, sqlite_where=AWAITING_REPLY)
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_column('reply_due_at')
    with op.batch_alter_table('motifs', schema=None) as batch_op:
        batch_op.drop_column('reply_targets')
