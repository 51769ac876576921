"""Mount the web interface on the app: pages, live stream, vendored static files, and HTML error pages."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from accueil.core.i18n import error_message
from accueil.web.i18n import WEB_DIR, make_environments
from accueil.web.live import router as live_router
from accueil.web.render import is_htmx, redirect, render
from accueil.web.session import CsrfFailed, LoginRequired, current_user
from accueil.web.views.account import home_of
from accueil.web.views.account import router as account_router
from accueil.web.views.admin import router as admin_router
from accueil.web.views.admin_agency import router as admin_agency_router
from accueil.web.views.admin_ivr import router as admin_ivr_router
from accueil.web.views.admin_mail import router as admin_mail_router
from accueil.web.views.admin_messaging import router as admin_messaging_router
from accueil.web.views.agency import router as agency_router
from accueil.web.views.agent import router as agent_router
from accueil.web.views.callback import router as callback_router
from accueil.web.views.calls import router as calls_router
from accueil.web.views.campaigns import router as campaigns_router
from accueil.web.views.chat import router as chat_router
from accueil.web.views.consents import router as consents_router
from accueil.web.views.forms import router as forms_router
from accueil.web.views.mailroom import router as mailroom_router
from accueil.web.views.portal import router as portal_router
from accueil.web.views.supervisor import router as supervisor_router
from accueil.web.views.unsubscribe import router as unsubscribe_router
from accueil.web.views.workforce import router as workforce_router


def is_web_path(path: str) -> bool:
    return not (path.startswith("/api/") or path.startswith("/webhooks/") or path == "/healthz")


def html_error(request: Request, status: int, code: str, details: dict[str, Any]) -> Response:
    """The error page (or, for HTMX, a message shown in the page's notice area)."""
    user = getattr(request.state, "web_user", None)
    language = user.language if user else request.app.state.runtime.settings.default_language
    message = error_message(code, language, details)
    headers = {"HX-Retarget": "#notice", "HX-Reswap": "innerHTML"} if is_htmx(request) else None
    template = "_notice.html" if is_htmx(request) else "error.html"
    return render(request, template, {"status": status, "message": message}, user=user, status_code=status,
                  headers=headers)


def install_web(app: FastAPI) -> None:
    app.state.web_environments = make_environments(app.state.runtime.settings.timezone)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if is_htmx(request) or request.method != "GET" or request.url.path == "/live":
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        from urllib.parse import quote

        return redirect(request, f"/login?next={quote(target)}")

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return html_error(request, 403, "csrf_failed", {})


    for router in (account_router, calls_router, agent_router, workforce_router, supervisor_router, admin_ivr_router,
                   admin_router, live_router):
        app.include_router(router)

    app.include_router(chat_router)

    app.include_router(callback_router)

    for router in (portal_router, agency_router, admin_agency_router, admin_mail_router, admin_messaging_router,
                   forms_router,
                   mailroom_router, campaigns_router, consents_router, unsubscribe_router):
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        try:
            user = await current_user(request)
        except LoginRequired:
            return redirect(request, "/login")
        return redirect(request, home_of(user.role))
