"""The 24-hour customer-service window at its boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from accueil.channels.whatsapp.window import WINDOW, window_state

LAST = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def test_open_at_23_59_59_closed_at_24_00_01():
    almost = window_state(LAST, LAST + timedelta(hours=23, minutes=59, seconds=59))
    assert almost.open and almost.remaining == timedelta(seconds=1) and almost.remaining_minutes == 0
    assert almost.closes_at == LAST + timedelta(hours=24)
    after = window_state(LAST, LAST + timedelta(hours=24, seconds=1))
    assert not after.open and after.remaining == timedelta(0) and after.closes_at == LAST + WINDOW


def test_closed_exactly_at_24_hours_and_when_the_customer_never_wrote():
    assert not window_state(LAST, LAST + WINDOW).open
    never = window_state(None, LAST)
    assert not never.open and never.closes_at is None


def test_just_after_the_message_the_whole_window_is_left():
    state = window_state(LAST, LAST + timedelta(minutes=1))
    assert state.open and state.remaining_minutes == 23 * 60 + 59


@given(st.integers(min_value=-3600, max_value=3 * 86400))
def test_open_if_and_only_if_time_is_left(seconds):
    state = window_state(LAST, LAST + timedelta(seconds=seconds))
    assert state.open == (seconds < 86400)
    assert state.remaining == (timedelta(seconds=86400 - seconds) if state.open else timedelta(0))
