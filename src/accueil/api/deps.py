"""What every API handler needs: the app's runtime, the caller (token + scopes) and their language."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accueil.core.errors import Unauthenticated
from accueil.core.i18n import pick_language
from accueil.core.permissions import Principal
from accueil.db.idempotency import do_remember_response, find_replay, request_fingerprint
from accueil.runtime import Runtime, lookup_principal


async def runtime(request: Request) -> Runtime:
    # ``async`` on purpose: FastAPI runs plain ``def`` dependencies in its thread pool (a hop per request).
    return request.app.state.runtime


def session_dep(rt: Runtime = Depends(runtime)) -> Iterator[Session]:
    """A read session; writes open their own transaction through the runtime's factory."""
    with rt.read_factory() as session:
        yield session


async def language(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"), request.app.state.runtime.settings.default_language)


async def principal(request: Request, rt: Runtime = Depends(runtime)) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthenticated("unauthenticated")
    found = rt.principals.get(secret)
    if found is not None:
        return found
    # One database check per token at a time: concurrent requests with the same token wait for it.
    inflight = rt.principals.inflight
    if secret not in inflight:
        inflight[secret] = asyncio.ensure_future(run_in_threadpool(lookup_principal, rt, secret))
        inflight[secret].add_done_callback(lambda _task: inflight.pop(secret, None))
    found = await asyncio.shield(inflight[secret])
    rt.principals.put(secret, found)
    return found


def needs(scope: str) -> Callable[..., Principal]:
    """Dependency: the caller must hold ``scope``."""

    async def check(caller: Principal = Depends(principal)) -> Principal:
        caller.require(scope)
        return caller

    check.__name__ = f"needs_{scope.replace(':', '_')}"
    return check


async def run_idempotent(
    request: Request, rt: Runtime, caller: Principal, status_code: int, work: Callable[[Session], Any]
) -> tuple[int, Any]:
    """Run ``work`` in one transaction; with an ``Idempotency-Key`` a repeat returns the stored answer."""
    key = request.headers.get("idempotency-key")
    body = await request.body()

    def transaction() -> tuple[int, Any]:
        with rt.factory() as session, session.begin():
            if key:
                fingerprint = request_fingerprint(request.method, request.url.path, body)
                replay = find_replay(session, principal=caller.user_id, key=key, fingerprint=fingerprint)
                if replay is not None:
                    return replay.status_code, replay.response
            result = work(session)
            payload = json.loads(result.model_dump_json()) if hasattr(result, "model_dump_json") else result
            if key:
                do_remember_response(
                    session, principal=caller.user_id, key=key, fingerprint=fingerprint,
                    status_code=status_code, response=payload,
                )
            return status_code, payload

    return await run_in_threadpool(transaction)
