"""Every route of the app × every kind of caller: who gets in, who is refused, and how.

The table below gives each route its rule; the test reads the app's own route table, so a route added
without a line here fails (as does a line for a route that no longer exists). Each rule is then tried
against a real server by six callers: nobody, an agent, a partner agent (outsourced N1), a supervisor,
an administrator, and an administrator's token limited to ``cases:read``. Path parameters point at
nothing: an allowed caller gets past the permission check and then a 404 or 422, a refused one gets
its 401/403 (or, for a page, the sign-in form) before anything is looked up.

Rules:
    public              anyone (the rate limits and the forms' own checks apply alike to everyone)
    token               any valid API token
    scope <scope>       an API token carrying that scope
    web <roles>         a signed-in web session of one of the roles (staff = every role but none else)
    twilio              only a request signed by Twilio: every caller here is refused
    meta                only a request signed with the Meta app secret (or its verify token): all refused here
    signed              only a request signed with the SMS webhook secret: every caller here is refused
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest
from websockets.sync.client import connect

from accueil.app import create_app
from accueil.core.permissions import ROLE_SCOPES
from accueil.identity.models import Role, User
from accueil.identity.service import do_create_api_token
from tests.web.conftest import WebClient, set_passwords

ROUTE_RULES = """
GET    /api/v1/openapi.json                                  public
GET    /api/docs                                             public
GET    /docs/oauth2-redirect                                 public
GET    /healthz                                              public
POST   /api/v1/inbound                                       scope contacts:write
GET    /api/v1/motifs                                        scope cases:read
GET    /api/v1/cases                                         scope cases:read
GET    /api/v1/cases/{case_id}                               scope cases:read
POST   /api/v1/cases/{case_id}/replies                       scope cases:write
POST   /api/v1/cases/{case_id}/notes                         scope cases:write
POST   /api/v1/cases/{case_id}/status                        scope cases:write
POST   /api/v1/cases/{case_id}/resolve                       scope cases:write
POST   /api/v1/cases/{case_id}/reopen                        scope cases:write
GET    /api/v1/interactions/{interaction_id}                 scope cases:read
GET    /api/v1/interactions/{interaction_id}/events          scope cases:read
POST   /api/v1/interactions/{interaction_id}/events          scope cases:write
GET    /api/v1/attachments/{attachment_id}/content           scope cases:read
GET    /api/v1/canned-responses                              scope cases:read
PUT    /api/v1/canned-responses/{code}                       scope admin
GET    /api/v1/knowledge/search                              public
GET    /api/v1/knowledge/articles/{article}                  public
GET    /api/v1/customers                                     scope customers:read
POST   /api/v1/customers                                     scope customers:write
GET    /api/v1/customers/{customer_id}                       scope customers:read
POST   /api/v1/customers/{customer_id}/identities            scope customers:write
POST   /api/v1/customers/{customer_id}/merge                 scope customers:write
GET    /api/v1/customers/{customer_id}/timeline              scope customers:read
GET    /api/v1/me                                            token
GET    /api/v1/users                                         scope admin
GET    /api/v1/sites                                         scope cases:read
GET    /api/v1/teams                                         scope cases:read
POST   /api/v1/tokens                                        scope admin
DELETE /api/v1/tokens/{token_id}                             scope admin
GET    /api/v1/routing/me                                    scope routing:work
PUT    /api/v1/routing/me/presence                           scope routing:work
PUT    /api/v1/routing/agents/{user_ref}/presence            scope routing:supervise
POST   /api/v1/routing/me/next                               scope routing:work
POST   /api/v1/routing/items/{interaction_id}/accept         scope routing:work
POST   /api/v1/routing/items/{interaction_id}/decline        scope routing:work
POST   /api/v1/routing/items/{interaction_id}/end            scope routing:work
POST   /api/v1/routing/items/{interaction_id}/wrapup-end     scope routing:work
POST   /api/v1/routing/items/{interaction_id}/transfer       scope routing:work
POST   /api/v1/routing/items/{interaction_id}/escalate       scope routing:work
GET    /api/v1/routing/queues                                scope routing:work
GET    /api/v1/routing/queues/{code}/rules                   scope routing:supervise
PUT    /api/v1/routing/queues/{code}/rules                   scope admin
PUT    /api/v1/routing/agents/{user_ref}/capacity            scope admin
PUT    /api/v1/routing/agents/{user_ref}/skills              scope admin
POST   /api/v1/cases/{case_id}/callbacks                     scope cases:write
DELETE /api/v1/callbacks/{callback_id}                       scope cases:write
POST   /api/v1/callbacks/{callback_id}/attempts              scope cases:write
POST   /api/v1/public/callbacks                              public
GET    /api/v1/chat/motifs                                   public
WS     /ws/chat                                              public
POST   /api/v1/cti/events                                    scope contacts:write
POST   /webhooks/twilio/voice                                twilio
POST   /webhooks/twilio/ivr                                  twilio
POST   /webhooks/twilio/ivr/wait                             twilio
POST   /webhooks/twilio/ivr/closed                           twilio
POST   /webhooks/twilio/voicemail                            twilio
POST   /webhooks/twilio/hold                                 twilio
POST   /webhooks/twilio/status                               twilio
GET    /webhooks/whatsapp                                    meta
POST   /webhooks/whatsapp                                    meta
POST   /webhooks/twilio/sms                                  twilio
POST   /webhooks/twilio/sms/status                           twilio
POST   /webhooks/sms                                         signed
POST   /webhooks/sms/status                                  signed
GET    /api/v1/public/agencies                               public
GET    /api/v1/public/agencies/{code}/slots                  public
POST   /api/v1/public/appointments                           public
POST   /api/v1/public/appointments/cancel                    public
GET    /api/v1/agencies/{code}/appointments                  scope cases:read
POST   /api/v1/appointments/{appointment_id}/check-in        scope cases:write
POST   /api/v1/appointments/{appointment_id}/start           scope cases:write
POST   /api/v1/appointments/{appointment_id}/finish          scope cases:write
POST   /api/v1/agencies/{code}/walk-ins                      scope cases:write
GET    /                                                     web staff
GET    /login                                                public
POST   /login                                                public
POST   /logout                                               web staff
GET    /account/password                                     web staff
POST   /account/password                                     web staff
POST   /account/language                                     public
POST   /agent/items/{interaction_id}/hold                    web staff
POST   /agent/items/{interaction_id}/resume                  web staff
POST   /agent/items/{interaction_id}/hangup                  web staff
GET    /agent                                                web staff
GET    /agent/work                                           web staff
GET    /agent/offers                                         web staff
GET    /agent/queues                                         web staff
POST   /agent/next                                           web staff
GET    /agent/presence                                       web staff
POST   /agent/presence                                       web staff
POST   /agent/items/{interaction_id}/accept                  web staff
POST   /agent/items/{interaction_id}/decline                 web staff
POST   /agent/items/{interaction_id}/end                     web staff
POST   /agent/items/{interaction_id}/wrapup-end              web staff
GET    /agent/cases/{case_id}                                web staff
GET    /agent/attachments/{attachment_id}                    web staff
POST   /agent/cases/{case_id}/reply                          web staff
POST   /agent/cases/{case_id}/whatsapp-template              web staff
POST   /agent/cases/{case_id}/resolve                        web staff
POST   /agent/cases/{case_id}/motif                          web staff
POST   /agent/items/{interaction_id}/transfer                web staff
POST   /agent/items/{interaction_id}/escalate                web staff
GET    /agent/cases/{case_id}/canned                         web staff
POST   /agent/cases/{case_id}/callback                       web staff
GET    /agent/chat/live                                      web staff
POST   /agent/chat/{case_id}/typing                          web staff
POST   /agent/callbacks/{callback_id}/outcome                web staff
GET    /live                                                 web staff
GET    /agent/campaigns                                      web staff
GET    /agent/campaigns/{campaign_id}                        web staff
POST   /agent/campaigns/{campaign_id}/next                   web staff
POST   /agent/campaigns/targets/{target_id}/dial             web staff
POST   /agent/campaigns/targets/{target_id}/skip             web staff
POST   /agent/campaigns/attempts/{attempt_id}/outcome        web staff
GET    /supervisor/campaigns                                 web supervisor admin
POST   /supervisor/campaigns                                 web supervisor admin
GET    /supervisor/campaigns/{campaign_id}                   web supervisor admin
POST   /supervisor/campaigns/{campaign_id}/status            web supervisor admin
POST   /supervisor/campaigns/{campaign_id}/import            web supervisor admin
POST   /supervisor/campaigns/{campaign_id}/search            web supervisor admin
GET    /supervisor/campaigns/{campaign_id}/report.csv        web supervisor admin
GET    /supervisor/consents                                  web supervisor admin
POST   /supervisor/consents                                  web supervisor admin
POST   /supervisor/consents/{consent_id}/withdraw            web supervisor admin
GET    /supervisor/workforce                                 web supervisor admin
POST   /supervisor/workforce/what-if                         web supervisor admin
GET    /supervisor                                           web supervisor admin
GET    /supervisor/board                                     web supervisor admin
GET    /supervisor/cases                                     web supervisor admin
POST   /supervisor/cases/{case_id}/assign                    web supervisor admin
GET    /agency                                               web agent supervisor admin
POST   /agency/appointments/{appointment_id}/check-in        web agent supervisor admin
POST   /agency/appointments/{appointment_id}/start           web agent supervisor admin
POST   /agency/appointments/{appointment_id}/finish          web agent supervisor admin
POST   /agency/walk-ins                                      web agent supervisor admin
GET    /mailroom                                             web agent supervisor admin
POST   /mailroom                                             web agent supervisor admin
GET    /mailroom/{scan_id}                                   web agent supervisor admin
GET    /mailroom/{scan_id}/preview.png                       web agent supervisor admin
GET    /mailroom/{scan_id}/scan                              web agent supervisor admin
POST   /mailroom/{scan_id}/file                              web agent supervisor admin
POST   /mailroom/{scan_id}/read-again                        web agent supervisor admin
GET    /admin                                                web admin
GET    /admin/ivr                                            web admin
POST   /admin/ivr                                            web admin
GET    /admin/ivr/{code}                                     web admin
GET    /admin/ivr/{code}/export.{fmt}                        web admin
POST   /admin/ivr/{code}/delete                              web admin
GET    /admin/users                                          web admin
POST   /admin/users                                          web admin
GET    /admin/users/{user_id}                                web admin
POST   /admin/users/{user_id}                                web admin
POST   /admin/users/{user_id}/skills                         web admin
POST   /admin/users/{user_id}/password                       web admin
GET    /admin/sites                                          web admin
POST   /admin/sites                                          web admin
POST   /admin/teams                                          web admin
GET    /admin/skills                                         web admin
POST   /admin/skills                                         web admin
GET    /admin/motifs                                         web admin
POST   /admin/motifs                                         web admin
GET    /admin/canned                                         web admin
POST   /admin/canned                                         web admin
GET    /admin/queues                                         web admin
POST   /admin/queues                                         web admin
GET    /admin/queues/{code}                                  web admin
POST   /admin/queues/{code}                                  web admin
GET    /admin/agencies                                       web admin
GET    /admin/agencies/{code}                                web admin
POST   /admin/agencies/{code}                                web admin
POST   /admin/agencies/{code}/closures                       web admin
POST   /admin/agencies/{code}/closures/{closure_id}/delete   web admin
GET    /admin/mail                                           web admin
GET    /admin/mail/{mail_id}                                 web admin
GET    /admin/messaging                                      web admin
POST   /admin/messaging/templates                            web admin
POST   /admin/messaging/templates/{template_id}/approval     web admin
GET    /forms/{code}                                         public
POST   /forms/{code}                                         public
GET    /chat/demo                                            public
GET    /portal/callback                                      public
POST   /portal/callback                                      public
GET    /portal/appointments                                  public
POST   /portal/appointments                                  public
GET    /portal/appointments/cancel/{token}                   public
POST   /portal/appointments/cancel/{token}                   public
GET    /unsubscribe/{token}                                  public
GET    /help                                                 public
GET    /help/search                                          public
GET    /help/articles/{code}                                 public
POST   /help/articles/{code}/vote                            public
POST   /unsubscribe/{token}                                  public
"""

STAFF_ROLES = {Role.agent, Role.partner_agent, Role.supervisor, Role.admin}
LIMITED_SCOPES = ["cases:read"]


@dataclass(frozen=True)
class Rule:
    method: str
    path: str
    kind: str  # public | token | scope | web | twilio | meta
    values: frozenset[str]  # the scope, or the roles allowed


def parse_rules() -> list[Rule]:
    rules = []
    for line in ROUTE_RULES.strip().splitlines():
        method, path, kind, *values = line.split()
        if kind == "web":
            roles = STAFF_ROLES if values == ["staff"] else {Role(value) for value in values}
            values = [role.value for role in roles]
        rules.append(Rule(method, path, kind, frozenset(values)))
    return rules


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, HEAD and the static files aside."""

    def flatten(routes):
        for route in routes:
            if hasattr(route, "effective_route_contexts"):  # FastAPI's included routers
                yield from flatten(route.effective_route_contexts())
            else:
                yield route

    found = set()
    for route in flatten(app.routes):
        path = route.path or getattr(getattr(route, "starlette_route", None), "path", "")
        if path == "/static":
            continue
        methods = getattr(route, "methods", None) or {"WS"}
        found.update((method, path) for method in methods if method != "HEAD")
    return found


def test_every_route_has_a_rule(runtime):
    table = {(rule.method, rule.path) for rule in parse_rules()}
    assert len(table) == len(parse_rules()), "a route is listed twice"
    served = app_routes(create_app(runtime=runtime))
    assert sorted(served - table) == [], "routes without a rule: add them to ROUTE_RULES"
    assert sorted(table - served) == [], "rules for routes that no longer exist"


@dataclass
class Caller:
    name: str
    role: Role | None  # None: not signed in on the web
    scopes: frozenset[str]  # of the API token (empty: no token)
    token: str | None
    web: WebClient | None
    http: httpx.Client  # the signed-in client's, or one without cookies


def filled(path: str) -> str:
    """The path with every parameter pointing at nothing."""
    return re.sub(r"\{(\w+)\}", lambda m: "json" if m.group(1) == "fmt" else "nothing-here", path)


def call(server_url: str, rule: Rule, caller: Caller) -> int | tuple[int, str]:
    """The status of one request (and where a redirect points); a live stream is only opened, not read."""
    url = filled(rule.path)
    headers, body = {}, {}
    if caller.token and (rule.path.startswith("/api/") or caller.web is None):
        headers["Authorization"] = f"Bearer {caller.token}"  # an API token means nothing to the pages
    if rule.path.startswith("/api/") and rule.method in ("POST", "PUT"):
        body = {"json": {}}
    elif not rule.path.startswith(("/api/", "/webhooks/")):
        if rule.method != "GET":
            headers["Origin"] = server_url  # as a browser sends with every form
        if caller.web is not None and rule.method != "GET":
            headers.update({"HX-Request": "true", "X-CSRF-Token": caller.web.csrf})
    # a signed-in caller's client carries the session cookie (which the API ignores: it wants a token)
    with caller.http.stream(rule.method, url, headers=headers, **body) as response:
        return response.status_code, response.headers.get("location", "")


def allowed(rule: Rule, caller: Caller) -> bool:
    if rule.kind == "public":
        return True
    if rule.kind == "token":
        return caller.token is not None
    if rule.kind == "scope":
        return next(iter(rule.values)) in caller.scopes
    if rule.kind == "web":
        return caller.role is not None and caller.role.value in rule.values
    return False  # twilio, meta, signed: no caller here signs like the provider


def refusal_is_right(rule: Rule, caller: Caller, status: int, location: str) -> bool:
    """A refused caller is told the right thing: 401 when nobody is known, 403 when the caller lacks a right,
    and a page sends a stranger to the sign-in form."""
    if rule.kind in ("scope", "token"):
        return status == (403 if caller.token else 401)
    if rule.kind in ("twilio", "meta", "signed"):
        return status == 403
    if caller.role is None:  # a page, nobody signed in
        if rule.method == "GET" and rule.path != "/live":
            return status == 303 and location.startswith("/login")
        return status == 401
    return status == 403


@pytest.fixture
def callers(runtime, cast, server_url):
    set_passwords(runtime, "alice", "bob", "chloe", "admin")
    with runtime.factory() as session, session.begin():
        admin = session.query(User).filter_by(username="admin").one()
        limited = do_create_api_token(session, user=admin, name="limited", scopes=LIMITED_SCOPES).secret
    people = [("agent", "alice", Role.agent), ("partner agent", "chloe", Role.partner_agent),
              ("supervisor", "bob", Role.supervisor), ("admin", "admin", Role.admin)]
    stranger = httpx.Client(base_url=server_url, timeout=30)
    made = [Caller("anonymous", None, frozenset(), None, None, stranger),
            Caller("limited token", None, frozenset(LIMITED_SCOPES), limited, None, stranger)]
    for name, username, role in people:
        web = WebClient(server_url)
        assert web.sign_in(username).status_code == 303
        made.append(Caller(name, role, ROLE_SCOPES[role], cast.tokens[username], web, web.http))
    yield made
    stranger.close()
    for caller in made:
        if caller.web is not None:
            caller.web.close()


def test_every_route_lets_in_exactly_the_callers_its_rule_names(server_url, callers):
    # Signing out ends the session the other requests use: that route goes last.
    rules = sorted((rule for rule in parse_rules() if rule.method != "WS"), key=lambda rule: rule.path == "/logout")
    wrong = []
    for rule in rules:
        for caller in callers:
            status, location = call(server_url, rule, caller)
            if allowed(rule, caller):
                if status in (401, 403) or (status == 303 and location.startswith("/login")):
                    wrong.append(f"{rule.method} {rule.path}: {caller.name} refused ({status})")
            elif not refusal_is_right(rule, caller, status, location):
                wrong.append(f"{rule.method} {rule.path}: {caller.name} let in or wrongly refused ({status})")
    assert wrong == [], "\n".join(wrong)


def test_the_chat_socket_is_open_to_visitors(server_url):
    with connect(server_url.replace("http://", "ws://") + "/ws/chat",
                 additional_headers={"Origin": server_url}) as socket:
        assert socket.protocol.state.name == "OPEN"
