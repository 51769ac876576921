"""Case endpoints over HTTP: lists with filters and cursors, replies, notes, status, idempotency keys."""

from __future__ import annotations

from tests.api.test_inbound_api import assert_error
from tests.factories import inbound


def post(http, cast, payload, user="alice"):  # type: ignore[no-untyped-def]
    response = http.post("/api/v1/inbound", json=payload, headers=cast.auth(user))
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_reply_note_resolve_reopen_flow(http, cast):
    created = post(http, cast, inbound())
    case_id = created["case_id"]
    reply = http.post(f"/api/v1/cases/{case_id}/replies", json={"body_text": "Votre colis arrive demain."},
                      headers=cast.auth("alice"))
    assert reply.status_code == 201, reply.text
    note = http.post(f"/api/v1/cases/{case_id}/notes", json={"body_text": "Transporteur relancé"},
                     headers=cast.auth("alice"))
    assert note.status_code == 201 and note.json()["internal"]
    resolved = http.post(f"/api/v1/cases/{case_id}/resolve", json={"resolution_code": "info_given"},
                         headers=cast.auth("alice"))
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolution_code"] == "info_given"
    detail = http.get(f"/api/v1/cases/{case_id}", headers=cast.auth("alice")).json()
    interaction = detail["interactions"][0]
    assert interaction["answered_at"] is not None and interaction["ended_at"] is not None
    assert interaction["outcome"] == "handled"
    assert [m["author_kind"] for m in detail["messages"]] == ["customer", "agent", "agent"]
    assert detail["case"]["created_at"].endswith("Z")
    bad = http.post(f"/api/v1/cases/{case_id}/status", json={"status": "pending"}, headers=cast.auth("alice"))
    assert_error(bad, 409, "invalid_transition")
    reopened = http.post(f"/api/v1/cases/{case_id}/reopen", json={}, headers=cast.auth("alice"))
    assert reopened.json()["status"] == "open" and reopened.json()["reopen_count"] == 1


def test_idempotency_key_replays_first_result(http, cast):
    case_id = post(http, cast, inbound())["case_id"]
    headers = cast.auth("alice", **{"Idempotency-Key": "reply-1"})
    first = http.post(f"/api/v1/cases/{case_id}/replies", json={"body_text": "Bonjour"}, headers=headers)
    second = http.post(f"/api/v1/cases/{case_id}/replies", json={"body_text": "Bonjour"}, headers=headers)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    detail = http.get(f"/api/v1/cases/{case_id}", headers=cast.auth("alice")).json()
    assert len(detail["messages"]) == 2
    other = http.post(f"/api/v1/cases/{case_id}/replies", json={"body_text": "Autre"}, headers=headers)
    assert_error(other, 409, "idempotency_key_reused")


def test_list_filters_and_cursor_pagination(http, cast):
    for i in range(5):
        post(http, cast, inbound(email=f"client{i}@example.fr", provider_message_id=f"p{i}"))
    post(http, cast, inbound("voice", identities=[{"kind": "phone", "value": "06 12 34 56 78"}], motif="remboursement"))
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = http.get("/api/v1/cases", params=params, headers=cast.auth("bob")).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 6 and seen == sorted(seen, reverse=True)
    by_identity = http.get("/api/v1/cases", params={"identity": "phone:+33 6 12 34 56 78"},
                           headers=cast.auth("bob")).json()["items"]
    assert [c["motif"]["code"] for c in by_identity] == ["remboursement"]
    by_channel = http.get("/api/v1/cases", params={"channel": "voice"}, headers=cast.auth("bob")).json()["items"]
    assert len(by_channel) == 1
    by_motif = http.get("/api/v1/cases", params={"motif": "suivi_commande", "status": ["new"]},
                        headers=cast.auth("bob")).json()["items"]
    assert len(by_motif) == 5
    assert_error(http.get("/api/v1/cases", params={"cursor": "garbage!"}, headers=cast.auth("bob")), 422,
                 "invalid_cursor")


def test_partner_agent_sees_level_one_only(http, cast):
    n2 = post(http, cast, inbound(queue="email_n2", provider_message_id="n2"))
    n1 = post(http, cast, inbound(queue="tel_n1", motif="remboursement", channel="voice", provider_message_id="n1"))
    assert_error(http.get(f"/api/v1/cases/{n2['case_id']}", headers=cast.auth("chloe")), 403, "case_out_of_scope")
    assert http.get(f"/api/v1/cases/{n1['case_id']}", headers=cast.auth("chloe")).status_code == 200
    listed = http.get("/api/v1/cases", headers=cast.auth("chloe")).json()["items"]
    assert [c["id"] for c in listed] == [n1["case_id"]]
    reply = http.post(f"/api/v1/cases/{n2['case_id']}/replies", json={"body_text": "x"}, headers=cast.auth("chloe"))
    assert_error(reply, 403, "case_out_of_scope")


def test_interaction_events_drive_timestamps(http, cast):
    created = post(http, cast, inbound("voice", identities=[{"kind": "phone", "value": "+33612345678"}],
                                       queue="tel_n1"))
    iid = created["interaction_id"]
    for kind in ("offered", "answered", "held", "unheld", "ended", "wrapup_ended"):
        response = http.post(f"/api/v1/interactions/{iid}/events", json={"kind": kind}, headers=cast.auth("alice"))
        assert response.status_code == 201, response.text
    interaction = http.get(f"/api/v1/interactions/{iid}", headers=cast.auth("alice")).json()
    assert interaction["outcome"] == "handled" and interaction["agent_id"] == cast.users["alice"]
    assert interaction["wrapup_ended_at"] >= interaction["ended_at"] >= interaction["answered_at"]
    events = http.get(f"/api/v1/interactions/{iid}/events", headers=cast.auth("alice")).json()
    assert [e["kind"] for e in events] == ["arrived", "queued", "offered", "answered", "held", "unheld", "ended",
                                          "wrapup_ended"]
    assert_error(http.post(f"/api/v1/interactions/{iid}/events", json={"kind": "exploded"},
                           headers=cast.auth("alice")), 422, "validation_error")
