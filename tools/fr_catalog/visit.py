"""French for the visit web pages (merged by tools/fr_web_catalog.py)."""

FRENCH: dict[str, str] = {
}
