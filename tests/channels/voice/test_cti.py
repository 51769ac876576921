"""CTI events over HTTP: a whole call's durations, abandons told apart, duplicates and disorder reconciled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from accueil.channels.voice.models import VoiceCall
from accueil.conversations.models import Interaction, InteractionEvent

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def event(call_id: str, name: str, seconds: float, **extra) -> dict:
    return {"provider": "pbx", "call_id": call_id, "event": name, "at": (T0 + timedelta(seconds=seconds)).isoformat(),
            **extra}


def post(http, cast, *events):
    body = events[0] if len(events) == 1 else {"events": list(events)}
    response = http.post("/api/v1/cti/events", json=body, headers=cast.auth("alice"))
    assert response.status_code == 200, response.text
    return response.json()[-1]


def test_a_whole_call_gives_queue_talk_hold_and_wrapup_durations(http, cast, runtime):
    call = [
        event("c1", "offered", 0, caller="06 12 34 56 78", called="+33170000000", ivr_path=["1", "2"]),
        event("c1", "ivr", 0), event("c1", "queued", 25, queue="tel_n1"),
        event("c1", "ringing", 70, agent="alice"), event("c1", "answered", 75, agent="alice"),
        event("c1", "held", 100), event("c1", "unheld", 130), event("c1", "transferred", 140, to_queue="tel_n1"),
        event("c1", "recording", 200, recording="s3://rec/c1.wav"),
        event("c1", "ended", 255, hung_up_by="customer"), event("c1", "wrapup_ended", 285),
    ]
    summary = post(http, cast, *call)
    assert summary["outcome"] == "handled" and summary["abandon_kind"] is None
    assert summary["durations"] == {"ivr": 25.0, "queue": 50.0, "ring": 5.0, "talk": 150.0, "hold": 30.0,
                                    "wrapup": 30.0}
    case = http.get(f"/api/v1/cases/{summary['case_id']}", headers=cast.auth("alice")).json()
    assert case["interactions"][0]["agent_id"] == cast.users["alice"]
    customer = http.get(f"/api/v1/cases/{summary['case_id']}", headers=cast.auth("alice")).json()["case"]
    assert customer["customer_id"] == cast.david_id  # identified by his number: the agent sees who calls
    with runtime.factory() as session:
        row = session.scalar(select(VoiceCall))
        assert row.ivr_path == ["1", "2"] and row.recording_ref == "s3://rec/c1.wav" and row.hung_up_by == "customer"
        kinds = session.scalars(select(InteractionEvent.kind).where(
            InteractionEvent.interaction_id == summary["interaction_id"]).order_by(InteractionEvent.at)).all()
        assert kinds[:3] == ["arrived", "queued", "offered"] and "held" in kinds and kinds[-1] == "wrapup_ended"


def test_abandons_in_the_ivr_in_the_queue_and_short_ones_are_told_apart(http, cast):
    ivr = post(http, cast, event("a1", "offered", 0, caller="+33611111111"), event("a1", "ivr", 0),
               event("a1", "ended", 40, hung_up_by="customer"))
    assert ivr["outcome"] == "abandoned" and ivr["abandon_kind"] == "ivr"
    short = post(http, cast, event("a2", "offered", 0, caller="+33622222222"),
                 event("a2", "queued", 10, queue="tel_n1"), event("a2", "ended", 13))
    assert short["abandon_kind"] == "short" and short["durations"]["queue"] == 3.0
    queued = post(http, cast, event("a3", "offered", 0, caller="+33633333333"),
                  event("a3", "queued", 10, queue="tel_n1"), event("a3", "ended", 130))
    assert queued["abandon_kind"] == "queue" and queued["durations"]["queue"] == 120.0


def test_duplicates_disorder_and_missing_events_never_lose_the_call(http, cast, runtime):
    # ended arrives first, with no offered ever sent, and from a withheld number: still a call record
    first = post(http, cast, event("m1", "ended", 90, caller="anonymous"))
    assert first["outcome"] == "abandoned" and first["abandon_kind"] == "ivr"
    # the answered event comes late: the abandon becomes a handled call
    late = post(http, cast, event("m1", "queued", 10, queue="tel_n1"), event("m1", "answered", 30, agent="alice"))
    assert late["outcome"] == "handled" and late["abandon_kind"] is None and late["durations"]["talk"] == 60.0
    again = post(http, cast, event("m1", "answered", 30, agent="alice"))
    assert again["duplicate"] is True
    with_ids = event("m2", "offered", 0, caller="+33644444444", event_id="evt-1")
    assert post(http, cast, with_ids)["duplicate"] is False and post(http, cast, with_ids)["duplicate"] is True
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(VoiceCall)) == 2
        assert session.scalar(select(func.count()).select_from(Interaction)) == 2
        answered = session.scalars(select(InteractionEvent).where(InteractionEvent.kind == "answered")).all()
        assert len(answered) == 1


def test_malformed_events_get_a_clear_4xx_and_record_nothing(http, cast, runtime):
    bad = [
        {"call_id": "x", "event": "exploded", "at": T0.isoformat()},
        {"call_id": "x", "event": "ended", "at": "2026-11-23T09:00:00"},  # no time zone
        {"call_id": "x", "event": "queued", "at": T0.isoformat(), "queue": "nope"},
        {"event": "ended", "at": T0.isoformat()},
        {"call_id": "x", "event": "ended", "at": T0.isoformat(), "surprise": 1},
    ]
    for body in bad:
        response = http.post("/api/v1/cti/events", json=body, headers=cast.auth("alice"))
        assert 400 <= response.status_code < 500, (body, response.text)
        assert response.json()["error"]["code"] in ("validation_error", "unknown_queue")
    assert http.post("/api/v1/cti/events", json=bad[0], headers=cast.auth("chloe")).status_code == 403
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(VoiceCall)) == 0
        assert session.scalar(select(func.count()).select_from(Interaction)) == 0
