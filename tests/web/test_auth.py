"""Sign-in, sessions, CSRF and roles in the web interface, over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from accueil.conversations.models import Message
from accueil.identity.models import WebSession
from tests.factories import inbound
from tests.web.conftest import PASSWORD, WebClient, set_passwords


def test_sign_in_lands_on_the_role_home_and_sets_a_safe_cookie(server_url, runtime, cast):
    set_passwords(runtime, "alice", "bob")
    agent = WebClient(server_url)
    response = agent.sign_in("alice")
    assert response.status_code == 303 and response.headers["location"] == "/agent"
    cookie = response.headers["set-cookie"]
    assert "accueil_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = agent.get("/agent")
    assert page.status_code == 200 and "Alice Agent" in page.text
    assert "Content-Security-Policy" in page.headers and "script-src 'self'" in page.headers["content-security-policy"]
    supervisor = WebClient(server_url)
    assert supervisor.sign_in("bob").headers["location"] == "/supervisor"
    with runtime.factory() as session:  # only the hash of the cookie secret is stored
        hashes = set(session.scalars(select(WebSession.token_hash)))
    secret = agent.http.cookies["accueil_session"]
    assert secret not in hashes and len(hashes) == 2


def test_wrong_password_unknown_user_and_throttling(server_url, runtime, cast):
    set_passwords(runtime, "alice")
    client = WebClient(server_url)
    for username in ("alice", "nobody"):
        response = client.sign_in(username, "not-the-password")
        assert response.status_code == 400 and "accueil_session" not in client.http.cookies
        assert "Identifiant ou mot de passe incorrect." in response.text  # French by default
    for _ in range(4):
        client.sign_in("alice", "still-wrong")
    blocked = client.sign_in("alice", PASSWORD)  # right password, but too many failures just before
    assert blocked.status_code == 429 and "15 minutes" in blocked.text


def test_pages_need_a_session_and_keep_where_you_were_going(server_url, runtime, cast):
    client = WebClient(server_url)
    response = client.get("/agent?case=X")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/agent%3Fcase%3DX"
    assert client.get("/agent/work", htmx=True).headers.get("hx-redirect") == "/login"
    set_passwords(runtime, "alice")
    form = client.get("/login?next=//evil.example/x")
    assert 'name="next_url" value=""' in form.text  # no open redirect to another site


def test_a_form_without_its_csrf_token_changes_nothing(web, runtime, cast, http):
    posted = http.post("/api/v1/inbound", json=inbound("email"), headers=cast.auth("alice"))
    case_id = posted.json()["case_id"]
    alice = web("alice")
    with runtime.factory() as session:
        before = session.scalar(select(func.count()).select_from(Message))
    refused = alice.post(f"/agent/cases/{case_id}/reply", {"body": "Bonjour"}, csrf=False, htmx=False)
    assert refused.status_code == 403
    forged = alice.http.post(f"/agent/cases/{case_id}/reply", data={"body": "Bonjour", "csrf_token": "forged"})
    assert forged.status_code == 403
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == before
    accepted = alice.post(f"/agent/cases/{case_id}/reply", {"body": "Bonjour David"})
    assert accepted.status_code == 200 and "Bonjour David" in accepted.text


def test_sign_out_and_password_change_end_sessions(web, runtime, cast, server_url):
    first = web("alice")
    second = WebClient(server_url)
    second.sign_in("alice")
    assert second.get("/agent").status_code == 200
    short = first.post("/account/password", {"current": PASSWORD, "new": "short", "confirm": "short"}, htmx=False)
    assert short.status_code == 400 and "10 caractères" in short.text
    changed = first.post("/account/password", {"current": PASSWORD, "new": "a-much-longer-one",
                                                "confirm": "a-much-longer-one"}, htmx=False)
    assert changed.status_code == 200
    assert second.get("/agent").status_code == 303  # the other browser was signed out
    assert first.get("/agent").status_code == 200  # this one stays
    assert first.post("/logout", htmx=False).status_code == 303
    assert first.get("/agent").status_code == 303
    assert WebClient(server_url).sign_in("alice", "a-much-longer-one").status_code == 303


def test_roles_pages_and_language(web, cast):
    alice = web("alice")
    assert alice.get("/supervisor").status_code == 403
    bob = web("bob")
    board = bob.get("/supervisor")
    assert board.status_code == 200 and "Files d'attente aujourd'hui" in board.text
    switched = bob.post("/account/language", {"language": "en", "next_url": "/supervisor"}, htmx=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/supervisor"
    assert "Queues today" in bob.get("/supervisor").text  # remembered on the user, not only in a cookie
