"""Identity's changes reach routing and the token caches through events, not back-calls."""

from __future__ import annotations

import pytest

from accueil.core.errors import PermissionDenied
from accueil.core.permissions import ROLE_SCOPES, Principal, Role
from accueil.identity.models import User
from accueil.identity.service import do_create_api_token, do_create_skill, do_revoke_api_token
from accueil.routing.config_loader import current_config_version


def test_a_new_skill_makes_routing_recompile_in_the_same_transaction(runtime, cast):
    with runtime.factory() as session:
        before = current_config_version(session)
    with runtime.factory() as session, session.begin():
        do_create_skill(session, code="lang_de", kind="language", label_fr="Allemand", label_en="German")
    with runtime.factory() as session:
        assert current_config_version(session) == before + 1
    with runtime.factory() as session:  # rolled back: neither the skill nor the new version
        with session.begin():
            do_create_skill(session, code="lang_it", kind="language", label_fr="Italien", label_en="Italian")
            session.rollback()
    with runtime.factory() as session:
        assert current_config_version(session) == before + 1
    assert "identity.staffing_changed" in runtime.bus.names()


def test_revoking_a_token_is_published_after_commit(runtime, cast):
    with runtime.factory() as session, session.begin():
        created = do_create_api_token(session, user=session.get(User, cast.users["alice"]), name="intégration")
        token_id = created.token.id
    runtime.bus.published.clear()
    with runtime.factory() as session, session.begin():
        do_revoke_api_token(session, token_id=token_id)
    [revoked] = [e for e in runtime.bus.published if e.name == "token.revoked"]
    assert revoked.data["token_id"] == token_id


def test_a_callers_scopes_are_checked():
    partner = Principal(user_id="u", username="chloe", role=Role.partner_agent, site_id="s",
                        scopes=ROLE_SCOPES[Role.partner_agent], token_id="t")
    partner.require("cases:read")
    with pytest.raises(PermissionDenied):
        partner.require("admin")
    assert "contacts:write" not in ROLE_SCOPES[Role.partner_agent]
