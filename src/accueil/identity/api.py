"""REST endpoints for the caller, users, sites, teams and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.api.deps import needs, principal, run_idempotent, runtime, session_dep
from accueil.core.permissions import Principal
from accueil.identity import service
from accueil.identity.models import Site, Team, User
from accueil.identity.schemas import MeOut, SiteOut, TeamOut, TokenIn, TokenOut, UserOut
from accueil.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["agents"])


@router.get("/me", response_model=MeOut)
def get_me(session: Session = Depends(session_dep), caller: Principal = Depends(principal)) -> MeOut:
    user = session.get(User, caller.user_id)
    return MeOut(**UserOut.model_validate(user).model_dump(), scopes=sorted(caller.scopes))


@router.get("/users", response_model=list[UserOut])
def get_users(session: Session = Depends(session_dep), _: Principal = Depends(needs("admin"))) -> list:
    return list(session.scalars(select(User).order_by(User.username)))


@router.get("/sites", response_model=list[SiteOut])
def get_sites(session: Session = Depends(session_dep), _: Principal = Depends(needs("cases:read"))) -> list:
    return list(session.scalars(select(Site).order_by(Site.code)))


@router.get("/teams", response_model=list[TeamOut])
def get_teams(session: Session = Depends(session_dep), _: Principal = Depends(needs("cases:read"))) -> list:
    return list(session.scalars(select(Team).order_by(Team.name)))


@router.post("/tokens", response_model=TokenOut, status_code=201)
async def create_token(payload: TokenIn, request: Request, rt: Runtime = Depends(runtime),
                       caller: Principal = Depends(needs("admin"))) -> JSONResponse:
    def work(session: Session) -> TokenOut:
        user = service.access_user(session, username=payload.username)
        created = service.do_create_api_token(session, user=user, name=payload.name, scopes=payload.scopes)
        return TokenOut(id=created.token.id, name=created.token.name, prefix=created.token.prefix,
                        scopes=created.token.scopes.split(), created_at=created.token.created_at,
                        token=created.secret)

    code, body = await run_idempotent(request, rt, caller, 201, work)
    return JSONResponse(body, status_code=code)


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: str, request: Request, rt: Runtime = Depends(runtime),
                       caller: Principal = Depends(needs("admin"))) -> JSONResponse:
    await run_idempotent(request, rt, caller, 204, lambda s: service.do_revoke_api_token(s, token_id=token_id) or {})
    return Response(status_code=204)
