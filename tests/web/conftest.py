"""Web interface fixtures: passwords for the cast, a signed-in browser-like HTTP client, a dispatcher."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator

import httpx
import pytest

from accueil.core.security import hash_password
from accueil.identity.models import User

PASSWORD = "correct-horse-battery"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def set_passwords(runtime, *usernames: str) -> None:
    with runtime.factory() as session, session.begin():
        for username in usernames:
            user = session.query(User).filter_by(username=username).one()
            user.password_hash = hash_password(PASSWORD)


class WebClient:
    """An HTTP client that signs in through the form, like a browser, and knows its CSRF token."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=20, follow_redirects=False)
        self.csrf = ""

    def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        form = self.http.get("/login")
        token = CSRF_INPUT.search(form.text).group(1)
        response = self.http.post("/login", data={"username": username, "password": password, "csrf_token": token})
        if response.status_code == 303:
            page = self.http.get(response.headers["location"])
            found = CSRF_INPUT.search(page.text)
            self.csrf = found.group(1) if found else ""
        return response

    def post(self, url: str, data: dict | None = None, *, csrf: bool = True, htmx: bool = True) -> httpx.Response:
        headers = {"HX-Request": "true"} if htmx else {}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return self.http.post(url, data=data or {}, headers=headers)

    def get(self, url: str, *, htmx: bool = False) -> httpx.Response:
        return self.http.get(url, headers={"HX-Request": "true"} if htmx else {})

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def web(server_url, runtime, cast) -> Iterator:
    """``web("alice")`` -> a WebClient signed in as alice (passwords set for the whole cast)."""
    set_passwords(runtime, "alice", "bob", "chloe", "admin")
    clients: list[WebClient] = []

    def signed_in(username: str) -> WebClient:
        client = WebClient(server_url)
        assert client.sign_in(username).status_code == 303
        clients.append(client)
        return client

    yield signed_in
    for client in clients:
        client.close()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LIVE_MS = 20_000  # generous: a live update normally lands in well under a second (CI machines are slow)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright; skips without it, except under CI (``.ci/run`` installs it)."""
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not on PATH (apt-get install chromium)")
        pytest.skip("browser tests need chromium on PATH (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


def sign_in(browser, server_url: str, username: str):
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="fr-FR")
    page.goto(server_url + "/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    return page
