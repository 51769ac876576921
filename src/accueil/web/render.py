"""Rendering pages: the user's language, security headers, and HTMX-aware redirects."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accueil.web.i18n import request_language
from accueil.web.session import LANGUAGE_COOKIE, WebUser

# Scripts and styles come only from our own /static (htmx, app.js): no inline script, no CDN.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def language_of(request: Request, user: WebUser | None) -> str:
    if user is not None:
        return user.language
    rt = request.app.state.runtime
    return request_language(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"),
                            rt.settings.default_language)


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           user: WebUser | None = None, status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    language = language_of(request, user)
    env = request.app.state.web_environments[language]
    body = env.get_template(template).render(request=request, user=user, **(context or {}))
    response = HTMLResponse(body, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})})
    return response


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def redirect(request: Request, url: str) -> Response:
    """A redirect that also works for HTMX requests (which would otherwise swap the target page in)."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
