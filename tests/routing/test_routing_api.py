"""Routing over HTTP: queue rules (admin), presence, offers, accept/end, transfer, escalate, errors and scopes."""

from __future__ import annotations

from sqlalchemy import select

from accueil.identity.models import Skill
from accueil.routing.service import do_dispatch
from tests.api.test_inbound_api import assert_error
from tests.factories import inbound


def setup_skills(runtime) -> None:
    with runtime.factory() as session, session.begin():
        for code in ("voice", "email"):
            session.add(Skill(code=code, kind="channel", label_fr=code, label_en=code))


def call(http, cast, **extra) -> str:
    response = http.post("/api/v1/inbound", json=inbound("voice", queue="tel_n1", body_text="(appel)", **extra),
                         headers=cast.auth("alice"))
    assert response.status_code in (200, 201), response.text
    return response.json()["interaction_id"]


def test_agent_takes_a_call_end_to_end(http, cast, runtime):
    setup_skills(runtime)
    rules = http.put("/api/v1/routing/queues/tel_n1/rules", headers=cast.auth("admin"), json={
        "skills": {"voice": 2}, "overflow": [{"after_seconds": 60, "any_skill": True}], "ring_timeout_seconds": 15})
    assert rules.status_code == 200, rules.text
    assert rules.json()["skills"] == {"voice": 2} and rules.json()["overflow"] == [{"after_seconds": 60,
                                                                                   "any_skill": True}]
    skills = http.put("/api/v1/routing/agents/chloe/skills", json={"skills": {"voice": 3}}, headers=cast.auth("admin"))
    assert skills.status_code == 200, skills.text
    interaction = call(http, cast)
    me = http.put("/api/v1/routing/me/presence", json={"presence": "available"}, headers=cast.auth("chloe"))
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["presence"] == "available"
    assert [o["interaction_id"] for o in body["offers"]] == [interaction]
    assert body["items"][0]["status"] == "offered" and body["items"][0]["offer_expires_at"].endswith("Z")

    stolen = http.post(f"/api/v1/routing/items/{interaction}/accept", headers=cast.auth("alice"))
    assert_error(stolen, 409, "stale_decision")
    accepted = http.post(f"/api/v1/routing/items/{interaction}/accept", headers=cast.auth("chloe"))
    assert accepted.status_code == 200, accepted.text
    not_yours = http.post(f"/api/v1/routing/items/{interaction}/end", json={}, headers=cast.auth("alice"))
    assert_error(not_yours, 403, "forbidden")
    ended = http.post(f"/api/v1/routing/items/{interaction}/end", json={"wrapup": True}, headers=cast.auth("chloe"))
    assert ended.status_code == 200
    assert http.get("/api/v1/routing/me", headers=cast.auth("chloe")).json()["items"][0]["status"] == "wrapup"
    done = http.post(f"/api/v1/routing/items/{interaction}/wrapup-end", headers=cast.auth("chloe"))
    assert done.status_code == 200 and http.get("/api/v1/routing/me", headers=cast.auth("chloe")).json()["items"] == []
    case = http.get(f"/api/v1/interactions/{interaction}", headers=cast.auth("bob"))
    if case.status_code == 200:  # the interaction view carries the routing timestamps
        assert case.json()["answered_at"] is not None


def test_escalate_and_transfer_over_http(http, cast, runtime):
    setup_skills(runtime)
    http.put("/api/v1/routing/agents/chloe/skills", json={"skills": {"voice": 3}}, headers=cast.auth("admin"))
    created = http.put("/api/v1/routing/queues/tel_n2/rules", headers=cast.auth("admin"), json={
        "channel": "voice", "name_fr": "Téléphone N2", "name_en": "Phone L2", "level": 2})
    assert created.status_code == 200, created.text
    interaction = call(http, cast)
    http.put("/api/v1/routing/me/presence", json={"presence": "available"}, headers=cast.auth("chloe"))
    http.post(f"/api/v1/routing/items/{interaction}/accept", headers=cast.auth("chloe"))
    wrong = http.post(f"/api/v1/routing/items/{interaction}/escalate", json={"queue": "tel_n1"},
                      headers=cast.auth("chloe"))
    assert_error(wrong, 422, "routing_refused")
    escalated = http.post(f"/api/v1/routing/items/{interaction}/escalate", json={"reason": "expertise"},
                          headers=cast.auth("chloe"))  # no queue named: the next level up on the same channel
    assert escalated.status_code == 200, escalated.text
    both = http.post(f"/api/v1/routing/items/{interaction}/transfer", json={"queue": "tel_n1", "agent": "alice"},
                     headers=cast.auth("bob"))
    assert_error(both, 422, "validation_error")
    moved = http.post(f"/api/v1/routing/items/{interaction}/transfer", json={"agent": "alice"},
                      headers=cast.auth("bob"))  # a supervisor moves anyone's work
    assert moved.status_code == 200, moved.text
    offers = http.put("/api/v1/routing/me/presence", json={"presence": "available"},
                      headers=cast.auth("alice")).json()["offers"]
    assert [o["interaction_id"] for o in offers] == [interaction]


def test_queue_rules_bad_input_and_scopes(http, cast, runtime):
    setup_skills(runtime)
    unknown = http.put("/api/v1/routing/queues/tel_n1/rules", json={"skills": {"klingon": 3}},
                       headers=cast.auth("admin"))
    assert_error(unknown, 422, "unknown_skill")
    typo = http.put("/api/v1/routing/queues/tel_n1/rules", json={"skilz": {"voice": 3}}, headers=cast.auth("admin"))
    assert typo.status_code == 422
    not_admin = http.put("/api/v1/routing/queues/tel_n1/rules", json={"priority": 5}, headers=cast.auth("bob"))
    assert_error(not_admin, 403, "missing_scope")
    new_without_channel = http.put("/api/v1/routing/queues/nouvelle/rules", json={"name_fr": "x", "name_en": "x"},
                                   headers=cast.auth("admin"))
    assert_error(new_without_channel, 422, "validation_error")
    assert http.get("/api/v1/routing/queues/tel_n1/rules", headers=cast.auth("chloe")).status_code == 403
    assert http.get("/api/v1/routing/queues/tel_n1/rules", headers=cast.auth("bob")).json()["skills"] == {}
    bad_presence = http.put("/api/v1/routing/me/presence", json={"presence": "asleep"}, headers=cast.auth("chloe"))
    assert bad_presence.status_code == 422
    admin_presence = http.put("/api/v1/routing/me/presence", json={"presence": "available"},
                              headers=cast.auth("admin"))
    assert_error(admin_presence, 422, "routing_refused")  # an administrator takes no routed work
    capacity = http.put("/api/v1/routing/agents/alice/capacity", json={"capacity": {"chat": 99}},
                        headers=cast.auth("admin"))
    assert_error(capacity, 422, "validation_error")
    assert http.post("/api/v1/routing/items/nope/accept", headers=cast.auth("chloe")).status_code == 404


def test_queues_live_view_and_partner_scope(http, cast, runtime):
    setup_skills(runtime)
    call(http, cast)
    live = http.get("/api/v1/routing/queues", headers=cast.auth("bob"))
    assert live.status_code == 200, live.text
    by_code = {q["code"]: q for q in live.json()}
    assert by_code["tel_n1"]["waiting"] == 1 and by_code["tel_n1"]["predicted_wait_seconds"] is None
    partner = {q["code"] for q in http.get("/api/v1/routing/queues", headers=cast.auth("chloe")).json()}
    assert partner == {"tel_n1"}  # email_n2 is level 2: not the partner's business
    with runtime.factory() as session, session.begin():
        assert do_dispatch(session, rules=runtime.routing_rules).offers == []
        assert session.scalar(select(Skill.code).where(Skill.code == "voice")) == "voice"
