"""Events are published after commit only; the Redis bus carries them between processes."""

from __future__ import annotations

import os
import time

import pytest

from accueil.core.events import Event, InProcessEventBus, RedisEventBus
from accueil.db.session import queue_event

REDIS_URL = os.environ.get("ACCUEIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_events_wait_for_commit_and_vanish_on_rollback(runtime):
    bus = runtime.bus
    with runtime.factory() as session:
        with session.begin():
            queue_event(session, Event("test.committed", {}))
            assert "test.committed" not in bus.names()
        assert "test.committed" in bus.names()
        with pytest.raises(RuntimeError), session.begin():
            queue_event(session, Event("test.rolled_back", {}))
            raise RuntimeError
    assert "test.rolled_back" not in bus.names()


def test_failing_subscriber_does_not_break_publisher():
    bus = InProcessEventBus()
    got: list[str] = []
    bus.subscribe(lambda e: 1 / 0)
    unsubscribe = bus.subscribe(lambda e: got.append(e.name), prefix="case.")
    bus.publish(Event("case.created", {}))
    bus.publish(Event("customer.created", {}))
    unsubscribe()
    bus.publish(Event("case.other", {}))
    assert got == ["case.created"]


def test_redis_bus_fans_out_between_two_buses():
    pytest.importorskip("redis")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    one, two = RedisEventBus(REDIS_URL), RedisEventBus(REDIS_URL)
    try:
        got: list[Event] = []
        two.subscribe(got.append, prefix="interaction.")
        time.sleep(0.2)
        one.publish(Event("interaction.arrived", {"interaction_id": "X"}))
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.02)
        assert got and got[0].data == {"interaction_id": "X"} and got[0].at.tzinfo is not None
    finally:
        one.close()
        two.close()
