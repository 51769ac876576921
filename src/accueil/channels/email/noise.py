"""Telling a person's mail from an automatic one, so no mail loop ever starts and no robot becomes work.

An automatic mail (RFC 3834 ``Auto-Submitted``, ``Precedence: bulk/junk/list``, a mailing list's
``List-Id``, an out-of-office's ``X-Autoreply``/``X-Autorespond``, a delivery-status report of RFC 3464,
a ``mailer-daemon`` or no-reply sender, one of our own Message-IDs coming back) is stored on its case when
it threads to one, but is never acknowledged automatically and never routed as new work. Pure: the
caller says which Message-IDs are ours.
"""

from __future__ import annotations

import enum
import re

from accueil.channels.email.parse import ParsedMail


class Noise(enum.StrEnum):
    bounce = "bounce"  # a delivery-status report or a mailer-daemon's message
    auto_reply = "auto_reply"  # out of office, vacation, "we received your message"
    bulk = "bulk"  # newsletters, mailing lists, bulk senders
    no_reply = "no_reply"  # a sender that reads nothing (noreply@, do-not-reply@)
    loop = "loop"  # our own message coming back to us


ROBOT_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
NO_REPLY = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|ne[-_.]?pas[-_.]?repondre|nepasrepondre)"
                      r"([-_.+][^@]*)?@", re.IGNORECASE)
# Subjects only robots write (a person may well write "Absence de remboursement": not listed).
AUTO_REPLY_SUBJECT = re.compile(r"^\s*(auto(matic)?[ -]?(reply|response)|out of (the )?office|"
                                r"r[ée]ponse automatique|message d'absence|accus[ée] de r[ée]ception automatique)\b",
                                re.IGNORECASE)


def noise_of(mail: ParsedMail, *, ours: bool = False) -> Noise | None:
    """Why ``mail`` is automatic, or None for a person's mail. ``ours``: its Message-ID is one we sent."""
    headers = mail.headers
    if ours:
        return Noise.loop
    if mail.report_type is not None or ROBOT_SENDERS.match(mail.sender) or "x-failed-recipients" in headers:
        return Noise.bounce
    if not mail.sender:
        return Noise.bounce  # a null reverse path: only delivery reports are sent that way
    auto_submitted = headers.get("auto-submitted", "no").split(";")[0].strip()
    if auto_submitted != "no" or "x-autoreply" in headers or "x-autorespond" in headers:
        return Noise.auto_reply
    if headers.get("precedence", "") == "auto_reply":
        return Noise.auto_reply
    if headers.get("precedence", "") in ("bulk", "junk", "list") or "list-id" in headers:
        return Noise.bulk
    if AUTO_REPLY_SUBJECT.match(mail.subject):
        return Noise.auto_reply
    if NO_REPLY.match(mail.sender):
        return Noise.no_reply
    return None
