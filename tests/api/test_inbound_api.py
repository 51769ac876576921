"""POST /api/v1/inbound over real HTTP: idempotency, validation and the error shape."""

from __future__ import annotations

import base64

from sqlalchemy import func, select

from accueil.conversations.models import Case, Message
from accueil.customers.models import Customer
from tests.factories import inbound


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def test_inbound_creates_then_replays(http, cast, runtime):
    payload = inbound(provider_message_id="<abc@mail.example>")
    first = http.post("/api/v1/inbound", json=payload, headers=cast.auth("alice"))
    assert first.status_code == 201, first.text
    data = first.json()
    assert data["customer_id"] == cast.david_id and data["case_created"] and not data["duplicate"]
    again = http.post("/api/v1/inbound", json=payload, headers=cast.auth("alice"))
    assert again.status_code == 200 and again.json()["duplicate"]
    assert again.json()["message_id"] == data["message_id"]
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_unknown_channel_is_a_clear_422_in_both_languages(http, cast):
    response = http.post("/api/v1/inbound", json=inbound("pigeon"), headers=cast.auth("alice", **{"Accept-Language": "en"}))
    error = assert_error(response, 422, "unknown_channel")
    assert "pigeon" in error["message"] and "Unknown channel" in error["message"]
    response = http.post("/api/v1/inbound", json=inbound("pigeon"), headers=cast.auth("alice", **{"Accept-Language": "fr-FR,fr;q=0.9"}))
    assert "Type de canal inconnu" in assert_error(response, 422, "unknown_channel")["message"]


def test_malformed_email_and_phone_are_refused(http, cast, runtime):
    response = http.post("/api/v1/inbound", json=inbound(email="not-an-email"), headers=cast.auth("alice"))
    assert_error(response, 422, "invalid_email")
    payload = inbound("voice", identities=[{"kind": "phone", "value": "12"}])
    assert_error(http.post("/api/v1/inbound", json=payload, headers=cast.auth("alice")), 422, "invalid_phone")
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
        assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_unknown_motif_and_missing_fields(http, cast):
    assert_error(http.post("/api/v1/inbound", json=inbound(motif="zzz"), headers=cast.auth("alice")), 422, "unknown_motif")
    error = assert_error(http.post("/api/v1/inbound", json={"channel": "email"}, headers=cast.auth("alice")),
                         422, "validation_error")
    assert any(e["field"] == "identities" for e in error["details"]["errors"])


def test_body_over_limit_is_refused(http, cast):
    payload = inbound(body_text="x" * 20_001)
    assert_error(http.post("/api/v1/inbound", json=payload, headers=cast.auth("alice")), 422, "body_too_long")


def test_attachment_checks(http, cast):
    ok = {"filename": "facture.pdf", "content_type": "application/pdf",
          "content_base64": base64.b64encode(b"%PDF-1.4").decode()}
    created = http.post("/api/v1/inbound", json=inbound(attachments=[ok]), headers=cast.auth("alice"))
    assert created.status_code == 201
    case = http.get(f"/api/v1/cases/{created.json()['case_id']}", headers=cast.auth("alice")).json()
    attachment = case["messages"][0]["attachments"][0]
    content = http.get(f"/api/v1/attachments/{attachment['id']}/content", headers=cast.auth("alice"))
    assert content.content == b"%PDF-1.4" and "attachment" in content.headers["content-disposition"]
    exe = dict(ok, content_type="application/x-msdownload")
    assert_error(http.post("/api/v1/inbound", json=inbound(attachments=[exe]), headers=cast.auth("alice")),
                 422, "attachment_type_refused")
    broken = dict(ok, content_base64="***")
    assert_error(http.post("/api/v1/inbound", json=inbound(attachments=[broken]), headers=cast.auth("alice")),
                 422, "invalid_attachment")


def test_authentication_and_scopes(http, cast):
    assert_error(http.post("/api/v1/inbound", json=inbound()), 401, "unauthenticated")
    assert_error(http.post("/api/v1/inbound", json=inbound(), headers={"Authorization": "Bearer acc_wrong"}),
                 401, "unauthenticated")
    # A partner agent's token cannot post inbound contacts (its role does not allow that scope).
    assert_error(http.post("/api/v1/inbound", json=inbound(), headers=cast.auth("chloe")), 403, "missing_scope")


def test_unknown_route_and_bad_json_have_the_error_shape(http, cast):
    assert_error(http.get("/api/v1/nothing-here", headers=cast.auth("alice")), 404, "route_not_found")
    response = http.post("/api/v1/inbound", content=b"{not json", headers=cast.auth("alice", **{"Content-Type": "application/json"}))
    assert_error(response, 422, "validation_error")


def test_openapi_page_is_served(http):
    assert http.get("/api/docs").status_code == 200
    spec = http.get("/api/v1/openapi.json").json()
    assert "/api/v1/inbound" in spec["paths"]


def test_revoked_token_is_refused_at_once(http, cast):
    created = http.post("/api/v1/tokens", json={"username": "alice", "name": "integration"},
                        headers=cast.auth("admin"))
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == "alice"  # now cached as a verified token
    assert http.delete(f"/api/v1/tokens/{created.json()['id']}", headers=cast.auth("admin")).status_code == 204
    assert_error(http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401, "unauthenticated")


def test_oversized_request_is_refused_before_reading(http, cast, runtime):
    from accueil.api.limits import request_limit

    limit = request_limit(runtime.settings)
    huge = b'{"channel": "email", "body_text": "' + b"x" * (limit + 10) + b'"}'
    response = http.post("/api/v1/inbound", content=huge,
                         headers=cast.auth("alice", **{"Content-Type": "application/json"}))
    assert_error(response, 413, "request_too_large")
