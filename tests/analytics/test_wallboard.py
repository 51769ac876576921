"""The wallboard's counts per queue, today in the site's time zone."""

from __future__ import annotations

from accueil.analytics.wallboard import queue_board
from accueil.conversations.models import ChannelKind
from accueil.conversations.service import do_receive_inbound
from accueil.core import clock
from tests.factories import contact


def test_a_waiting_call_counts_as_waiting_in_its_queue_only(runtime, cast):
    with runtime.factory() as session, session.begin():
        do_receive_inbound(session, contact=contact(ChannelKind.voice, queue_code="tel_n1"),
                           config=runtime.conversation_config)
    with runtime.factory() as session:
        board = {row.code: row for row in queue_board(session, now=clock.now(), timezone="Europe/Paris")}
    assert board["tel_n1"].waiting == 1 and board["tel_n1"].answered == 0
    assert board["tel_n1"].longest_wait_seconds is not None
    assert all(row.waiting == 0 for code, row in board.items() if code != "tel_n1")
