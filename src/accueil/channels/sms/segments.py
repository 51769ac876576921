"""How many SMS a text costs: GSM-7 or UCS-2, segments and characters left (pure, no I/O).

A text made only of characters of the GSM 03.38 default alphabet travels in 7-bit septets: 160 in one
SMS, 153 per part once concatenated (the user-data header takes 7). The characters of the extension
table (``€ [ ] { } \\ ^ ~ |`` and form feed) are an escape plus a character: 2 septets each, never split
across two parts. Any other character (``ê``, ``ç``, ``œ``, an emoji…) sends the whole text in UCS-2:
70 UTF-16 code units in one SMS, 67 per part; a character outside the BMP (most emoji) is 2 units, kept
in one part. The console shows the same figures (``web/static/app.js`` ports these rules).
"""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 default alphabet, by code point 0x00–0x7F (0x1B, the escape to the extension table, left out).
# Note 0x09 is the capital Ç: the lower-case ç is not in the alphabet; nor are â ê î ô û ë ï œ À È.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")  # each: escape + character, 2 septets

GSM7, UCS2 = "GSM-7", "UCS-2"
SINGLE = {GSM7: 160, UCS2: 70}
PART = {GSM7: 153, UCS2: 67}


@dataclass(frozen=True)
class SmsCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2) of the whole text
    segments: int  # SMS parts it is sent (and billed) as; 0 for an empty text
    remaining: int  # units still free in the last part before one more part is needed
    non_gsm: tuple[str, ...] = ()  # the characters that forced UCS-2, in order of appearance


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _cost(ch: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1  # a surrogate pair


def count(text: str) -> SmsCount:
    """The encoding, size and parts of ``text`` as an SMS (see the module docstring)."""
    non_gsm = tuple(dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION))
    encoding = UCS2 if non_gsm else GSM7
    costs = [_cost(ch, encoding) for ch in text]
    units = sum(costs)
    if units <= SINGLE[encoding]:
        return SmsCount(encoding, units, 1 if units else 0, SINGLE[encoding] - units, non_gsm)
    # concatenated: fill each part, never splitting an escaped character or a surrogate pair
    size, segments, used = PART[encoding], 1, 0
    for cost in costs:
        if used + cost > size:
            segments, used = segments + 1, 0
        used += cost
    return SmsCount(encoding, units, segments, size - used, non_gsm)
