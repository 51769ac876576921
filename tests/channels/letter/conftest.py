"""The web tests' fixtures (a signed-in client, Debian's Chromium), for the mailroom tests here."""

from tests.web.conftest import browser, web  # noqa: F401
