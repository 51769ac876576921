"""The consumer's time zone from their phone number: the legal hours are theirs, not the call centre's.

Pure. French overseas departments and collectivities have their own country calling codes (ITU), and a few
share one (+262: Réunion and Mayotte, told apart by the next digits; +590: Guadeloupe, Saint-Barthélemy and
Saint-Martin, all UTC-4). Anything else — metropolitan France (+33) and unknown numbers — is Europe/Paris
(the law's default reading: the professional cannot know better without the number).
"""

from __future__ import annotations

DEFAULT_ZONE = "Europe/Paris"

# Longest prefix first wins (E.164, with the plus).
ZONES: tuple[tuple[str, str], ...] = (
    ("+262269", "Indian/Mayotte"),  # Mayotte fixed lines
    ("+262639", "Indian/Mayotte"),  # Mayotte mobiles
    ("+262", "Indian/Reunion"),
    ("+269", "Indian/Mayotte"),  # the former code of Mayotte, still printed on old files
    ("+590", "America/Guadeloupe"),
    ("+594", "America/Cayenne"),
    ("+596", "America/Martinique"),
    ("+508", "America/Miquelon"),
    ("+681", "Pacific/Wallis"),
    ("+687", "Pacific/Noumea"),
    ("+689", "Pacific/Tahiti"),
)


def zone_of_phone(phone: str | None) -> str:
    """The IANA zone a French number is answered in (Europe/Paris when nothing better is known)."""
    if not phone:
        return DEFAULT_ZONE
    for prefix, zone in ZONES:
        if phone.startswith(prefix):
            return zone
    return DEFAULT_ZONE
