"""Opt-out and opt-in keywords of text messages (pure): the whole message, whatever its case, accents,
spacing or final punctuation, is one of the words below — "Stop", "ARRÊT", " stop ! ", "STOP 36180"
(the French "STOP au 36xxx" answered with the short code). A sentence that contains the word ("stop
sending me the wrong parcel") is a message, not a keyword.

Twilio's standard keywords (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPTOUT, REVOKE; START, UNSTOP,
YES) and the French usage (ARRET, STOP SMS, DÉSINSCRIPTION, DÉSABONNER…) are recognised. An opt-in
keyword only counts from a number that opted out: otherwise "Yes" is an answer to an agent's question.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

STOP_WORDS = frozenset({
    "stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "optout", "opt out", "revoke",
    "arret", "arreter", "stop sms", "stop pub", "desinscription", "desinscrire", "me desinscrire",
    "desabonner", "desabonnement", "me desabonner",
})
START_WORDS = frozenset({"start", "unstop", "yes"})
_STOP_SHORT_CODE = re.compile(r"^(?:stop|arret)(?: au)? \d{4,6}$")  # "STOP 36180", "stop au 36180"

Keyword = Literal["stop", "start"]


def normalise(text: str) -> str:
    """Lower case, accents off, hyphens and spaces collapsed to one space, punctuation around it dropped."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = re.sub(r"[\s\-_]+", " ", plain)
    return plain.strip(" .!?,;:'\"()«»\u2019")


def keyword_of(text: str) -> Keyword | None:
    """"stop" or "start" when the whole message is such a keyword, else None."""
    word = normalise(text)
    if len(word) > 40:
        return None
    if word in STOP_WORDS or _STOP_SHORT_CODE.match(word):
        return "stop"
    if word in START_WORDS:
        return "start"
    return None
