"""French for the chat web pages (merged by tools/fr_web_catalog.py)."""

FRENCH: dict[str, str] = {
}
