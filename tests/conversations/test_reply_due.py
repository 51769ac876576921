"""Reply-delay targets of written work: due times stored on arrival, per channel and motif, on both databases."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from accueil.config import Settings
from accueil.conversations.models import ChannelKind, Interaction, Motif
from accueil.conversations.receive import begin_batch, flush_batch
from accueil.conversations.reply_targets import (
    ReplyTargets,
    check_motif_targets,
    format_motif_targets,
    parse_motif_targets,
)
from accueil.conversations.service import do_receive_inbound, receive_inbound
from accueil.core.calendar import CalendarError
from accueil.routing.models import RoutingItem
from tests.factories import contact

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def _due(runtime, channel: ChannelKind, at: datetime, **overrides) -> datetime | None:  # type: ignore[no-untyped-def]
    result = receive_inbound(runtime.factory, contact=contact(channel, occurred_at=at, **overrides),
                             config=runtime.conversation_config, now=at)
    with runtime.factory() as session:
        return session.get(Interaction, result.interaction_id).reply_due_at


def test_an_email_on_friday_evening_is_due_on_monday_morning(runtime, cast):
    result = receive_inbound(runtime.factory, contact=contact(queue_code="email_n2", occurred_at=paris(2026, 1, 9, 17, 30)),
                             config=runtime.conversation_config, now=paris(2026, 1, 9, 17, 30))
    with runtime.factory() as session:
        interaction = session.get(Interaction, result.interaction_id)
        assert interaction.reply_due_at == paris(2026, 1, 12, 9, 30)
        # The queue's work carries the same due time, so an "order_by: sla" queue serves it in that order.
        assert session.get(RoutingItem, result.interaction_id).sla_due_at == paris(2026, 1, 12, 9, 30)


def test_defaults_per_written_channel(runtime, cast):
    assert _due(runtime, ChannelKind.webform, paris(2026, 7, 13, 17, 30)) == paris(2026, 7, 15, 9, 30)  # 14 July
    assert _due(runtime, ChannelKind.letter, paris(2025, 12, 24, 10, 0)) == paris(2026, 1, 2, 10, 0)
    for channel in (ChannelKind.voice, ChannelKind.chat, ChannelKind.sms, ChannelKind.visit):
        assert _due(runtime, channel, paris(2026, 1, 12, 10, 0)) is None


def test_a_motif_overrides_one_channel_and_keeps_the_others(runtime, cast):
    with runtime.factory() as session, session.begin():
        session.execute(update(Motif).where(Motif.code == "reclamation")
                        .values(reply_targets={"letter": "10d", "email": "4h"}))
    monday = paris(2026, 1, 12, 10, 0)
    assert _due(runtime, ChannelKind.letter, monday, motif_code="reclamation") == paris(2026, 1, 26, 10, 0)
    assert _due(runtime, ChannelKind.email, monday, motif_code="reclamation",
                email="autre@example.org") == paris(2026, 1, 12, 14, 0)
    assert _due(runtime, ChannelKind.webform, monday, motif_code="reclamation",
                email="tiers@example.org") == paris(2026, 1, 12, 11, 0)  # not overridden: the default 1 h
    assert _due(runtime, ChannelKind.letter, monday, email="quatre@example.org") == paris(2026, 1, 19, 10, 0)


def test_every_contact_of_a_batch_gets_its_due_time(runtime, cast):
    contacts = [contact(ChannelKind.email, email=f"c{i}@example.org", occurred_at=paris(2026, 1, 12, 17, 30 + i))
                for i in range(3)]
    with runtime.factory() as session, session.begin():
        begin_batch(session, contacts, config=runtime.conversation_config, now=paris(2026, 1, 12, 17, 35))
        ids = [do_receive_inbound(session, contact=c, config=runtime.conversation_config,
                                  now=paris(2026, 1, 12, 17, 35)).interaction_id for c in contacts]
        flush_batch(session)
    with runtime.factory() as session:
        due = {i.id: i.reply_due_at for i in session.scalars(select(Interaction).where(Interaction.id.in_(ids)))}
    assert [due[i] for i in ids] == [paris(2026, 1, 13, 9, 30 + i) for i in range(3)]


def test_a_channel_without_target_and_other_opening_hours(runtime, cast):
    settings = Settings(environment="test", secret_key="x" * 40, reply_target_letter="",
                        written_opening_hours="mon-fri 08:00-12:00,13:30-17:30; sat 09:00-12:00")
    config = dataclasses.replace(runtime.conversation_config, reply_targets=ReplyTargets.from_settings(settings))
    for channel, expected in [(ChannelKind.letter, None), (ChannelKind.email, paris(2026, 1, 10, 9, 30))]:
        result = receive_inbound(runtime.factory, contact=contact(channel, occurred_at=paris(2026, 1, 9, 17, 0),
                                                                  email=f"{channel}@example.org"),
                                 config=config, now=paris(2026, 1, 9, 17, 0))
        with runtime.factory() as session:
            assert session.get(Interaction, result.interaction_id).reply_due_at == expected


def test_motif_overrides_are_checked():
    assert parse_motif_targets("email=4h, letter = 10d") == {"email": "4h", "letter": "10d"}
    assert parse_motif_targets("  ") is None
    assert format_motif_targets({"letter": "10d", "email": "4h"}) == "email=4h, letter=10d"
    with pytest.raises(CalendarError, match="written channels"):
        check_motif_targets({"voice": "1h"})
    with pytest.raises(CalendarError, match="not a delay"):
        parse_motif_targets("letter=dix jours")
    with pytest.raises(CalendarError, match="channel=delay"):
        parse_motif_targets("letter 10d")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("reply_target_letter", "5 jours", "not a delay"),
    ("written_opening_hours", "lun-ven 09:00-18:00", "span of days"),
    ("written_holidays_country", "ZZ", "public-holiday calendar"),
    ("written_closed_dates", "15/05/2026", "YYYY-MM-DD"),
    ("timezone", "Mars/Olympus", "unknown time zone"),
])
def test_settings_are_validated_with_clear_errors(name, value, message):
    with pytest.raises(ValueError, match=message):
        Settings(environment="test", secret_key="x" * 40, **{name: value})
