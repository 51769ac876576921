"""Every message the web interface shows has its French translation, and pages render in both languages."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from accueil.web.i18n import LOCALES_DIR, WEB_DIR, Formatter
from accueil.web.labels import LABELS

METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "N_": None, "translate": (2,)}


def extracted() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(WEB_DIR), METHODS, options_map=OPTIONS, keywords=KEYWORDS):
        if isinstance(message, str) and message:
            found.add(message)
    return found


def test_every_message_has_a_french_translation():
    with (LOCALES_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    translated = {m.id: m.string for m in catalog if m.id}
    messages = extracted()
    assert len(messages) > 80  # the extraction itself works
    missing = sorted(m for m in messages if not translated.get(m))
    assert not missing, f"no French for {missing} (see docs/web.md: extract, then tools/fr_web_catalog.py)"
    assert set(LABELS.values()) <= messages
    # Jinja's new-style gettext formats every message with %: a lone % must be written %%.
    lone = sorted(m for m in messages | set(translated.values()) if re.search(r"%(?![(%])", m.replace("%%", "")))
    assert not lone, f"write % as %% in {lone}"


def test_formatting_follows_the_locale():
    from datetime import UTC, datetime

    moment = datetime(2026, 7, 14, 10, 5, tzinfo=UTC)
    fr, en = Formatter("fr", "Europe/Paris"), Formatter("en", "Europe/Paris")
    assert fr.datetime(moment) == "14/07/2026 12:05" and en.datetime(moment).startswith("7/14/26")
    assert fr.number(12345.5, 1) == "12\u202f345,5" and en.number(12345.5, 1) == "12,345.5"
    assert fr.percent(0.8125) == "81\u00a0%" and en.percent(0.8125) == "81%"
    assert fr.duration(65) == "1 min 05 s" and fr.duration(2 * 86400 + 3600) == "2 j 01 h"
    assert en.duration(2 * 86400 + 3600) == "2 d 01 h" and en.duration(None) == "–"


def test_pages_render_in_english_for_english_browsers(server_url):
    import httpx

    english = httpx.get(server_url + "/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    french = httpx.get(server_url + "/login", headers={"Accept-Language": "fr-FR"})
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    assert '<html lang="fr">' in french.text and "Se connecter" in french.text
