"""French and English for the web interface: Babel catalogs, and dates, numbers and durations per locale.

The English text in the templates is the message id; ``locales/fr/LC_MESSAGES/messages.po`` holds the
French. Catalogs are read from the ``.po`` files at start-up (no compile step to forget), and each
language gets its own Jinja environment with its translations installed. Times are stored in UTC and
shown in the site's time zone (Europe/Paris by default).
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

from accueil.core.i18n import LANGUAGES, pick_language
from accueil.web.labels import english_label

WEB_DIR = Path(__file__).parent
LOCALES_DIR = WEB_DIR / "locales"
TEMPLATES_DIR = WEB_DIR / "templates"
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


@cache
def translations(language: str) -> NullTranslations:
    """The catalog of ``language`` (English is the source text: no catalog needed)."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def translate(language: str, message: str, **values: object) -> str:
    """A translated message for Python code (flash messages, errors), with ``%(name)s`` values."""
    text = translations(language).gettext(message)
    return text % values if values else text


class Formatter:
    """Locale-aware display of values, bound to one language and time zone."""

    def __init__(self, language: str, timezone: str) -> None:
        self.language = language
        self.zone = ZoneInfo(timezone)

    def datetime(self, value: datetime | None, style: str = "short") -> str:
        return "" if value is None else format_datetime(value, style, tzinfo=self.zone, locale=self.language)

    def time(self, value: datetime | None) -> str:
        return "" if value is None else format_time(value, "HH:mm:ss", tzinfo=self.zone, locale=self.language)

    def iso(self, value: datetime | None) -> str:
        return "" if value is None else value.isoformat()

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.language)

    def percent(self, value: float | None) -> str:
        return "–" if value is None else format_percent(value, locale=self.language)

    def duration(self, seconds: float | None) -> str:
        """3 s, 1 min 05 s, 2 h 03 min, 3 j 04 h (3 d 04 h): short, for tables and timers."""
        if seconds is None:
            return "–"
        total = max(int(round(seconds)), 0)
        days, rest = divmod(total, 86400)
        if days:
            return f"{days} {'j' if self.language == 'fr' else 'd'} {rest // 3600:02d} h"
        hours, rest = divmod(total, 3600)
        minutes, secs = divmod(rest, 60)
        if hours:
            return f"{hours} h {minutes:02d} min"
        if minutes:
            return f"{minutes} min {secs:02d} s"
        return f"{secs} s"


def make_environments(timezone: str) -> dict[str, Environment]:
    """One Jinja environment per language, each with its catalog and formatters installed."""
    environments = {}
    for language in LANGUAGES:
        env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(["html"]),  # message bodies show as text, never as markup
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
        fmt = Formatter(language, timezone)
        catalog = translations(language)

        def label(code: str | None, catalog: NullTranslations = catalog) -> str:
            return catalog.gettext(english_label(code)) if code else ""

        env.globals.update(fmt=fmt, label=label, language=language, language_names=LANGUAGE_NAMES,
                           languages=LANGUAGES)
        environments[language] = env
    return environments


def request_language(cookie: str | None, accept_language: str | None, default: str) -> str:
    """The language a signed-out visitor sees: their choice (cookie), else their browser's, else the default."""
    if cookie in LANGUAGES:
        return cookie
    return pick_language(accept_language, default)
