"""Administration of email: the mailboxes and the inbox, where quarantined mails wait with their reason.

A mail that could not be read is never dropped: it is kept on disk, and this page shows it to the
administrators with why it was kept aside (and the raw headers, so they can tell a misconfigured sender
from an attack)."""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accueil.channels.email.mailboxes import list_mailboxes
from accueil.channels.email.models import InboundMail, InboxStatus
from accueil.core.errors import NotFound
from accueil.web.session import WebUser
from accueil.web.views.admin import _page, admin_user

router = APIRouter(prefix="/admin/mail", include_in_schema=False)
STATUSES = (InboxStatus.pending, InboxStatus.received, InboxStatus.noise, InboxStatus.duplicate,
            InboxStatus.quarantined)
SHOWN_HEADERS = ("from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "content-type",
                 "auto-submitted", "precedence", "list-id", "return-path")


def _inbox(status: str | None):  # noqa: ANN202
    def load(session: Session) -> dict:
        counts = dict(session.execute(select(InboundMail.status, func.count()).group_by(InboundMail.status)).all())
        query = select(InboundMail).order_by(InboundMail.received_at.desc()).limit(100)
        if status in STATUSES:
            query = query.where(InboundMail.status == status)
        return {"mailboxes": list_mailboxes(session), "counts": counts, "statuses": STATUSES,
                "chosen": status if status in STATUSES else None, "mails": list(session.scalars(query))}
    return load


@router.get("")
async def inbox_page(request: Request, status: str | None = None, user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, "admin/mail.html", _inbox(status))


@router.get("/{mail_id}")
async def mail_page(request: Request, mail_id: str, user: WebUser = Depends(admin_user)) -> Response:
    root = request.app.state.runtime.settings.mail_dir

    def load(session: Session) -> dict:
        mail = session.get(InboundMail, mail_id)
        if mail is None:
            raise NotFound("not_found", kind="mail", id=mail_id)
        path = root / mail.storage_path
        headers: list[tuple[str, str]] = []
        if path.exists():
            with path.open("rb") as handle:
                parsed = BytesHeaderParser(policy=default_policy).parse(handle)
            for name in SHOWN_HEADERS:
                for value in parsed.get_all(name, []):
                    headers.append((name, str(value)[:500]))
        return {"mail": mail, "headers": headers, "on_disk": path.exists()}

    return await _page(request, user, "admin/mail_one.html", load)
