"""The ASGI application: API routers, error shape, and the embedded runtime (migrations, job runner)."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

from fastapi import FastAPI

from accueil import __version__
from accueil.api.errors import install_error_handlers
from accueil.api.limits import BodySizeLimit, request_limit
from accueil.channels import registry
from accueil.channels.email.imap import MailboxWatcher, imap_mailboxes
from accueil.channels.email.smtp import MailListener
from accueil.config import Settings, get_settings
from accueil.conversations.api import router as conversations_router
from accueil.customers.api import router as customers_router
from accueil.db.jobs import start_runners
from accueil.db.session import (
    WalCheckpointer,
)
from accueil.identity.api import router as agents_router
from accueil.knowledge.api import router as knowledge_router
from accueil.routing.api import router as routing_router
from accueil.routing.events import (
    InteractionArrived,
    RoutingFreed,
    RoutingPresence,
    RoutingRequeued,
)
from accueil.routing.service import Dispatcher
from accueil.runtime import Runtime, build_runtime
from accueil.selfcare.help import router as help_router

log = logging.getLogger(__name__)

# Events after which waiting work may find an agent: something arrived, came back or freed up.
DISPATCH_TRIGGERS = tuple(event.name for event in (InteractionArrived, RoutingRequeued, RoutingPresence, RoutingFreed))


def register_job_handlers() -> tuple[ModuleType, ...]:
    """The modules whose durable job handlers this process runs (the app and ``accueil worker`` both)."""
    return registry.job_modules()


def start_mail(runtime: Runtime) -> tuple[MailListener | None, list[MailboxWatcher]]:
    """The SMTP listener and the IMAP watchers, when this process is the one that runs them. With several
    server processes only the first to bind the SMTP port does; the others say so and go on serving."""
    listener = MailListener(runtime.factory, runtime.conversation_config, runtime.settings)
    try:
        listener.start()
    except OSError as exc:  # the port is taken (another server process has the listener)
        listener.handler.writer.stop()
        log.warning("SMTP listener not started in this process: %s", exc.strerror or exc)
        return None, []
    with runtime.factory() as session:
        ids = imap_mailboxes(session)
    watchers = [MailboxWatcher(runtime.factory, mailbox_id, settings=runtime.settings,
                               config=runtime.conversation_config).start() for mailbox_id in ids]
    return listener, watchers


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or (runtime.settings if runtime else get_settings())
    register_job_handlers()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Everything loaded so far lives as long as the process: keep it out of the cyclic garbage
        # collector's way, so its full passes stay short (they were a source of 100 ms pauses).
        gc.collect()
        gc.freeze()
        checkpointer = WalCheckpointer(app.state.runtime.factory.kw["bind"]).start()
        # The channels' reactions to events (e.g. a provider's call accepted by an agent gets connected).
        unsubscribers = [app.state.runtime.bus.subscribe(handler, prefix=prefix)
                         for prefix, handler in registry.reactions(app.state.runtime.factory)]
        runners: list = []
        dispatcher = None
        if settings.dispatch_in_process:
            dispatcher = Dispatcher(app.state.runtime.factory, app.state.runtime.routing_rules,
                                    poll_seconds=settings.dispatch_poll_seconds)
            for prefix in DISPATCH_TRIGGERS:
                app.state.runtime.bus.subscribe(dispatcher.wake, prefix=prefix)
            dispatcher.start()
        if settings.run_jobs_in_process:
            runners = start_runners(app.state.runtime.factory, poll_seconds=settings.job_poll_seconds)
        mail_listener, mail_watchers = None, []
        if settings.mail_in_process:  # email in, in this process (the demo turns it on)
            mail_listener, mail_watchers = start_mail(app.state.runtime)
        traffic = None
        if settings.demo_live_traffic:
            from accueil.demo.live import LiveTraffic

            traffic = app.state.live_traffic = LiveTraffic(
                app.state.runtime, contacts_per_minute=settings.demo_contacts_per_minute).start()
        try:
            yield
        finally:
            for unsubscribe in unsubscribers:
                unsubscribe()
            if traffic is not None:
                traffic.stop()
            if mail_listener is not None:
                mail_listener.stop()
            for watcher in mail_watchers:
                watcher.stop()
            checkpointer.stop()
            app.state.runtime.inbound_writer.stop()
            for runner in runners:
                runner.stop()
            if dispatcher is not None:
                dispatcher.stop()

    app = FastAPI(
        title="accueil", version=__version__, lifespan=lifespan, docs_url="/api/docs",
        redoc_url=None, openapi_url="/api/v1/openapi.json",
        description="Omnichannel customer-relationship centre — centre de relation client omnicanal.",
    )
    app.state.runtime = runtime or build_runtime(settings)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=request_limit(settings))

    for router in (conversations_router, customers_router, agents_router, routing_router, knowledge_router):
        app.include_router(router)
    for router in registry.routers():  # every channel's routers
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    from accueil.web.routes import install_web

    install_web(app)
    app.include_router(help_router)  # the public help centre (selfcare/), on the web pages' templates
    return app
