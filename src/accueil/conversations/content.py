"""Message content: untrusted HTML is sanitised, attachments are checked and stored on disk."""

from __future__ import annotations

import hashlib
import html
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nh3

from accueil.core.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class AttachmentIn:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ContentLimits:
    max_body_chars: int
    max_attachment_bytes: int
    max_attachments: int
    attachment_types: frozenset[str]


def sanitise_html(raw: str) -> str:
    """Keep formatting, drop scripts, event handlers and remote-tracking tricks (nh3 / ammonia)."""
    return nh3.clean(raw, link_rel="noopener noreferrer nofollow")


_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"</?(p|div|br|li|tr|h[1-6])\b[^>]*>", re.IGNORECASE)


def html_to_text(raw: str) -> str:
    """A plain-text version for search, previews and channels that cannot show HTML."""
    text = _BLOCK.sub("\n", raw)
    text = html.unescape(_TAG.sub("", text))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def check_content(
    *, body_text: str, body_html: str | None, attachments: list[AttachmentIn], limits: ContentLimits
) -> None:
    length = max(len(body_text), len(body_html or ""))
    if length > limits.max_body_chars:
        raise ValidationFailed("body_too_long", length=length, limit=limits.max_body_chars)
    if not body_text.strip() and not (body_html or "").strip() and not attachments:
        raise ValidationFailed("empty_message")
    if len(attachments) > limits.max_attachments:
        raise ValidationFailed("too_many_attachments", count=len(attachments), limit=limits.max_attachments)
    for item in attachments:
        if len(item.data) > limits.max_attachment_bytes:
            raise ValidationFailed(
                "attachment_too_large", filename=item.filename, size=len(item.data),
                limit=limits.max_attachment_bytes,
            )
        if item.content_type.split(";")[0].strip().lower() not in limits.attachment_types:
            raise ValidationFailed("attachment_type_refused", content_type=item.content_type)


def safe_filename(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip() or "attachment"
    return re.sub(r"[^\w.\- ]", "_", base)[:200]


def stored_relative_path(attachment_id: str) -> Path:
    """Where ``store_attachment_bytes`` puts the bytes of ``attachment_id``, relative to its root."""
    return Path(attachment_id[-2:]) / attachment_id[-4:-2] / attachment_id


def store_attachment_bytes(root: Path, attachment_id: str, data: bytes) -> tuple[str, str]:
    """Write atomically (temp file + rename) under ``root/ab/cd/<id>``; returns (relative path, sha256)."""
    digest = hashlib.sha256(data).hexdigest()
    relative = stored_relative_path(attachment_id)
    write_durably(root / relative, data)
    return relative.as_posix(), digest


def write_durably(target: Path, data: bytes) -> None:
    """The bytes on disk before this returns (file and directory fsync'd), and the file whole or absent
    (a temporary file of its own, then a rename: two writers of the same target never collide)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle_fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".part")
    try:
        with os.fdopen(handle_fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut, as the commit that follows does
    finally:
        os.close(directory)
