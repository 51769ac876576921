"""The public contact forms (``/forms/<code>``): made to be embedded in a company's site as an iframe.

No session, hence no CSRF token: a signed form token, a honeypot and rate limits per client address and
per email address stand in for it (``channels/email/forms.py``). The page may be framed by any site (its
own Content-Security-Policy says so); the rest of accueil never may. The thank-you page shows no case
reference: the address typed may not be the typist's; the reference goes to that address by email.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from accueil.api.public import RateLimiter, client_address
from accueil.channels.email.forms import (
    Submission,
    access_form,
    check_form_token,
    do_submit_form,
    form_motifs,
    form_token,
)
from accueil.conversations.content import AttachmentIn
from accueil.core import clock
from accueil.core.errors import AccueilError
from accueil.core.i18n import error_message
from accueil.web.render import SECURITY_HEADERS, language_of, render
from accueil.web.views.agent import _read, _write

router = APIRouter(prefix="/forms", include_in_schema=False)
SUBMISSIONS = RateLimiter()
PER_ADDRESS = (5, 600.0)  # submissions per client address per 10 minutes
PER_EMAIL = (5, 3600.0)  # per email address per hour
HONEYPOT = "website"  # hidden from people by CSS; robots fill every field
FRAMEABLE = {"Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].replace(
    "frame-ancestors 'none'", "frame-ancestors *"), "X-Frame-Options": ""}


def _headers() -> dict[str, str]:
    return {k: v for k, v in FRAMEABLE.items() if v}


async def _page(request: Request, code: str, *, values: dict[str, Any], error: str | None = None,
                done: bool = False, status_code: int = 200) -> Response:
    settings = request.app.state.runtime.settings

    def load(session: Any) -> dict:
        form = access_form(session, code)
        return {"form": form, "motifs": form_motifs(session, form)}

    context = await _read(request, load)
    response = render(request, "forms/form.html", {
        **context, "values": values, "error": error, "done": done, "honeypot": HONEYPOT,
        "token": form_token(settings.secret_key, code)}, status_code=status_code, headers=_headers())
    del response.headers["X-Frame-Options"]  # framing is allowed by the CSP above
    return response


@router.get("/{code}")
async def form_page(request: Request, code: str) -> Response:
    return await _page(request, code, values={})


@router.post("/{code}")
async def submit_form(request: Request, code: str) -> Response:
    rt = request.app.state.runtime
    language = language_of(request, None)
    form_data = await request.form()
    values = {name: str(form_data.get(name) or "")[:10_000] for name in ("name", "email", "motif", "message")}
    values["consent"] = form_data.get("consent") == "1"
    if form_data.get(HONEYPOT):
        return await _page(request, code, values={}, done=True)  # a robot: thanked, nothing kept
    try:
        check_form_token(rt.settings.secret_key, code, str(form_data.get("form_token") or ""))
        SUBMISSIONS.hit(f"address:{client_address(request)}", limit=PER_ADDRESS[0], window=PER_ADDRESS[1])
        SUBMISSIONS.hit(f"email:{values['email'].strip().lower()}", limit=PER_EMAIL[0], window=PER_EMAIL[1])
        attachments = []
        upload = form_data.get("attachment")
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(rt.settings.max_attachment_bytes + 1)
            attachments.append(AttachmentIn(filename=upload.filename, data=data,
                                            content_type=upload.content_type or "application/octet-stream"))
        submission = Submission(email=values["email"], message=values["message"], name=values["name"],
                                motif_code=values["motif"] or None, consent=values["consent"],
                                attachments=attachments, language=language)
        await _write(request, lambda session: do_submit_form(
            session, form=access_form(session, code), submission=submission, config=rt.conversation_config,
            now=clock.now()))
    except AccueilError as exc:
        if exc.status_code >= 500 or exc.code == "not_found":
            raise
        return await _page(request, code, values=values, error=error_message(exc.code, language, exc.details),
                           status_code=exc.status_code)
    return await _page(request, code, values={}, done=True)
