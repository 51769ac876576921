"""The text of an SMS or email campaign: ``{first_name}``-style variables, checked when the campaign is made
(a typo would otherwise reach thousands of people as a literal ``{prenom}``) and filled in per person.

Pure: no database. A variable the person has no value for is left empty, never shown in braces.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

from accueil.core.errors import ValidationFailed

VARIABLES = ("name", "first_name", "last_name", "customer_number")
SMS_MAX_CHARS = 1000  # a long text is split by the network into up to ~7 concatenated segments
EMAIL_MAX_CHARS = 50_000


def variables_in(text: str) -> list[str]:
    try:
        return [field for _literal, field, _spec, _conv in string.Formatter().parse(text) if field is not None]
    except ValueError:
        raise ValidationFailed("campaign_text_brace") from None


def check_template(text: str, *, channel: str) -> str:
    """The campaign text, stripped; refused when empty, too long or naming an unknown variable."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("campaign_text_required")
    limit = SMS_MAX_CHARS if channel == "sms" else EMAIL_MAX_CHARS
    if len(text) > limit:
        raise ValidationFailed("campaign_text_too_long", limit=limit)
    for name in variables_in(text):
        if name not in VARIABLES:
            raise ValidationFailed("campaign_text_variable", name=name,
                                   variables=", ".join(f"{{{v}}}" for v in VARIABLES))
    return text


def split_name(display_name: str | None) -> tuple[str, str]:
    parts = (display_name or "").split()
    if not parts:
        return "", ""
    return parts[0], " ".join(parts[1:])


def render(text: str, values: Mapping[str, str | None]) -> str:
    """``text`` with each variable replaced by the person's value (empty when unknown)."""
    filled = {name: (values.get(name) or "") for name in VARIABLES}
    rendered = text.format_map(filled)
    return re.sub(r"[ \t]+([,.])", r"\1", re.sub(r"[ \t]{2,}", " ", rendered)).strip()
