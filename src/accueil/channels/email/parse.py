"""Reading one raw email (RFC 5322 bytes) into what accueil needs: who, threading headers, the new text.

Pure and forgiving: a malformed header, an unknown charset or a broken MIME tree degrades to what can be
read (with the defect noted) rather than raising; only bytes that are not a message at all raise
``UnreadableMail``, and the caller quarantines them. Built on the standard library's parser with the
modern policy; the new text is told apart from quoted history and signatures by ``mail-parser-reply``
(French and English markers such as "Le … a écrit :" and "On … wrote:").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache
from html import unescape

from mailparser_reply import EmailReplyParser

# A case reference in a subject, as accueil writes it: "[D-2026-000042]".
SUBJECT_REFERENCE = re.compile(r"\[(D-\d{4}-\d{6,})\]")
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
REPLY_PARSER = EmailReplyParser(languages=["fr", "en"])
NOISE_HEADERS = ("auto-submitted", "precedence", "list-id", "list-unsubscribe", "x-autoreply", "x-autorespond",
                 "x-auto-response-suppress", "return-path", "x-failed-recipients")


class _ReadingPolicy(EmailPolicy):
    """The standard library's modern policy, with each header parsed once rather than at every look-up.

    The modern policy re-parses a header each time it is read, and the MIME walk reads ``Content-Type``
    dozens of times per mail (``get_body``, ``get_content_type``, ``is_attachment``…): that was most of
    the cost of reading a mail. A parsed header is an immutable value of its name and raw text, so the
    same text gives the same object; the cache is shared (the same content types recur across mails)."""

    def header_fetch_parse(self, name, value):  # type: ignore[no-untyped-def]
        if hasattr(value, "name"):
            return value
        return _parsed_header(self, name, value)


@lru_cache(maxsize=4096)
def _parsed_header(reading: _ReadingPolicy, name: str, value: str):  # type: ignore[no-untyped-def]
    return EmailPolicy.header_fetch_parse(reading, name, value)


READING_POLICY = _ReadingPolicy()


class UnreadableMail(Exception):
    """The bytes are not an email message (no headers, or nothing a parser can use)."""


@dataclass(frozen=True)
class MailPart:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None  # an inline image the HTML refers to as cid:…
    inline: bool = False


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    sender: str  # the From address, lower-cased ("" when absent or unreadable)
    sender_name: str | None
    recipients: tuple[str, ...]  # To and Cc addresses, lower-cased
    subject: str
    sent_at: datetime | None
    text: str  # the whole plain-text body (or the HTML's text)
    new_text: str  # without quoted history and signature
    html: str | None  # raw: the conversations door sanitises it
    attachments: tuple[MailPart, ...]
    content_type: str
    report_type: str | None  # multipart/report; report-type=delivery-status (a bounce)
    headers: dict[str, str] = field(default_factory=dict)  # the headers that tell an automatic mail
    defects: tuple[str, ...] = ()
    failed_recipients: tuple[tuple[str, str], ...] = ()  # a bounce's (address, status such as "5.1.1")

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this mail answers, nearest first (In-Reply-To, then References from the end)."""
        return tuple(dict.fromkeys((*self.in_reply_to, *reversed(self.references))))

    @property
    def subject_reference(self) -> str | None:
        found = SUBJECT_REFERENCE.search(self.subject)
        return found.group(1) if found else None


def _clean(text: str) -> str:
    """Text as a database takes it: NUL characters (which PostgreSQL refuses in text) dropped."""
    return text.replace("\x00", "") if "\x00" in text else text


def _header(message: Message, name: str) -> str:
    """A header as text; a header the modern policy cannot parse falls back to its raw value."""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a malformed header must not lose the mail
        raw = message.get_all(name, failobj=[])  # type: ignore[arg-type]
        value = raw[0] if raw else None
    if value is None:
        return ""
    return _clean(" ".join(str(value).split()))


def message_ids(value: str) -> tuple[str, ...]:
    return tuple(MESSAGE_ID.findall(value))


def normalise_message_id(value: str) -> str | None:
    found = MESSAGE_ID.search(value or "")
    return found.group(0) if found else None


def _addresses(message: Message, *names: str) -> list[tuple[str, str]]:
    values = [_header(message, name) for name in names]
    return [(name, address.strip().lower()) for name, address in getaddresses([v for v in values if v])
            if "@" in address]


def _text_of(part: Message) -> str:
    """A text part's content, decoded with its charset, or as UTF-8/Latin-1 when the charset is wrong."""
    return _clean(_decoded(part))


def _decoded(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, AttributeError, KeyError, ValueError):
        pass
    payload = part.get_payload(decode=True) or b""
    if not isinstance(payload, bytes):
        return str(payload)
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("latin-1")


def _bytes_of(part: Message) -> bytes:
    if part.get_content_maintype() == "message":  # an attached mail or a delivery report: keep it whole
        inner = part.get_payload()
        if isinstance(inner, list):
            return b"".join(p.as_bytes() for p in inner if isinstance(p, Message))
        return inner.encode() if isinstance(inner, str) else b""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _date(message: Message) -> datetime | None:
    try:
        when = parsedate_to_datetime(_header(message, "date"))
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def _html_to_text(html_text: str) -> str:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", html_text)
    text = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h[1-6])>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\n{3,}", "\n\n", unescape(text)).strip()


def new_text_of(text: str) -> str:
    """The text the sender wrote this time: quoted history and signature left out."""
    if not text.strip():
        return ""
    try:
        replies = REPLY_PARSER.read(text).replies
    except Exception:  # noqa: BLE001 - a parser failure keeps the whole text
        return text.strip()
    body = replies[0].body.strip() if replies else ""
    return body or text.strip()


def _failed_recipients(message: Message) -> tuple[tuple[str, str], ...]:
    """The addresses a delivery-status report (RFC 3464) says failed, with their status code."""
    found: list[tuple[str, str]] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            action = _header(block, "action").lower()
            recipient = _header(block, "final-recipient") or _header(block, "original-recipient")
            address = recipient.partition(";")[2].strip().strip("<>").lower()
            if address and "@" in address and action in ("failed", ""):
                found.append((address, _header(block, "status") or "5.0.0"))
    failed_header = _header(message, "x-failed-recipients")
    for address in filter(None, (a.strip().lower() for a in failed_header.split(","))):
        if "@" in address and all(address != known for known, _status in found):
            found.append((address, "5.0.0"))
    return tuple(found)


def parse_mail(raw: bytes) -> ParsedMail:
    if not raw or not raw.strip():
        raise UnreadableMail("empty message")
    try:
        message = BytesParser(policy=READING_POLICY).parsebytes(raw)
    except Exception as exc:  # noqa: BLE001
        raise UnreadableMail(f"not a message: {type(exc).__name__}") from exc
    if not message.keys():
        raise UnreadableMail("no headers")
    assert isinstance(message, EmailMessage)
    defects = [type(d).__name__ for d in message.defects]
    plain = html = None
    try:
        plain = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
    except Exception as exc:  # noqa: BLE001
        defects.append(f"body: {type(exc).__name__}")
    text = _text_of(plain) if plain is not None else ""
    html_text = _text_of(html) if html is not None else None
    if not text and html_text:
        text = _html_to_text(html_text)
    body_parts = {id(plain), id(html)}
    attachments = []
    for part in message.walk():
        if part.is_multipart() or id(part) in body_parts:
            continue
        if part.get_content_maintype() == "message" and part is not message:
            pass  # kept below as a whole
        elif part.get_content_maintype() == "text" and not part.get_filename() and \
                part.get_content_disposition() != "attachment":
            continue  # an alternative text we did not pick
        data = _bytes_of(part)
        if not data:
            continue
        content_id = _header(part, "content-id").strip("<> ") or None
        filename = part.get_filename() or (content_id or "attachment")
        attachments.append(MailPart(filename=_clean(str(filename)), content_type=part.get_content_type(), data=data,
                                    content_id=content_id, inline=part.get_content_disposition() == "inline"))
    sender = _addresses(message, "from")
    report_type = None
    if message.get_content_type() == "multipart/report":
        report_type = (message.get_param("report-type") or "") or "unknown"
    return ParsedMail(
        message_id=normalise_message_id(_header(message, "message-id")),
        in_reply_to=message_ids(_header(message, "in-reply-to")),
        references=message_ids(_header(message, "references")),
        sender=sender[0][1] if sender else "", sender_name=(sender[0][0] or None) if sender else None,
        recipients=tuple(dict.fromkeys(address for _name, address in _addresses(message, "to", "cc"))),
        subject=_header(message, "subject"), sent_at=_date(message), text=text.strip(),
        new_text=new_text_of(text), html=html_text, attachments=tuple(attachments),
        content_type=message.get_content_type(), report_type=str(report_type) if report_type else None,
        headers={name: value.lower() for name in NOISE_HEADERS if (value := _header(message, name))},
        defects=tuple(defects), failed_recipients=_failed_recipients(message),
    )
