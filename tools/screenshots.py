"""Take the README's screenshots of a running demo (``make demo``), with Debian's Chromium:

    .venv/bin/python tools/screenshots.py --url http://127.0.0.1:8000 --token acc_… [--out docs/screenshots]

The token is the admin API token ``accueil demo`` prints when it builds the demo. A chat contact is posted
through the API while Alice is available, so the console shows a live offer, then the conversation.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

PASSWORD = "demo-accueil"


def sign_in(browser, url: str, username: str):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    return page


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True)
    parser.add_argument("--out", default="docs/screenshots")
    opts = parser.parse_args()
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                             args=["--no-sandbox"])
        page = sign_in(browser, opts.url, "alice")
        page.wait_for_url("**/agent")
        page.click("button[name=presence][value=available]")
        time.sleep(1)
        response = httpx.post(opts.url + "/api/v1/inbound", headers={"Authorization": f"Bearer {opts.token}"}, timeout=60,
                              json={"channel": "chat", "queue": "chat_n1", "motif": "livraison_retard",
                                    "identities": [{"kind": "email", "value": "hugo.roux283@exemple.fr"}],
                                    "display_name": "Hugo Roux",
                                    "body_text": "Bonjour, ma commande devait arriver hier et je n'ai toujours rien."})
        response.raise_for_status()
        page.locator(".offer").first.wait_for(timeout=10_000)
        page.screenshot(path=out / "console-offer.png")
        page.locator(".offer button.primary").first.click()
        page.wait_for_url("**/agent?case=*")
        time.sleep(1)
        page.screenshot(path=out / "console.png")
        board = sign_in(browser, opts.url, "bob")
        board.wait_for_url("**/supervisor")
        time.sleep(1)
        board.screenshot(path=out / "wallboard.png", full_page=True)
        browser.close()
    print(f"screenshots written to {out}/")


if __name__ == "__main__":
    main()
