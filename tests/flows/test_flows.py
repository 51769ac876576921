"""Units of work over two domains: each writes both halves in one transaction, or neither."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accueil.conversations.models import Case, Interaction
from accueil.conversations.service import do_receive_inbound
from accueil.core.errors import ValidationFailed
from accueil.customers.models import Customer, CustomerMerge
from accueil.flows import merge, sites
from accueil.identity.models import Site, SiteKind
from tests.factories import contact


def _customer_with_a_case(runtime, email: str) -> str:
    with runtime.factory() as session, session.begin():
        return do_receive_inbound(session, contact=contact(email=email),
                                  config=runtime.conversation_config).customer_id


def test_merge_moves_identities_and_history_and_counts_them(runtime, cast):
    source = _customer_with_a_case(runtime, "camille.ancienne@example.fr")
    target = _customer_with_a_case(runtime, "camille@example.fr")
    with runtime.factory() as session, session.begin():
        trace = merge.merge_customers(session, source_id=source, target_id=target, reason="same person")
        assert trace.moved == {"identities": 1, "cases": 1, "interactions": 1}
    with runtime.factory() as session:
        assert session.get(Customer, source).merged_into_id == target
        assert session.scalar(select(func.count()).select_from(Case).where(Case.customer_id == target)) == 2
        assert session.scalar(select(func.count()).select_from(Interaction)
                              .where(Interaction.customer_id == source)) == 0


def test_a_refused_merge_moves_nothing(runtime, cast):
    source = _customer_with_a_case(runtime, "seul@example.fr")
    with runtime.factory() as session, pytest.raises(ValidationFailed), session.begin():
        merge.merge_customers(session, source_id=source, target_id=source)
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(CustomerMerge)) == 0
        assert session.scalar(select(func.count()).select_from(Case).where(Case.customer_id == source)) == 1


def test_a_site_limited_to_unknown_motifs_is_refused_and_not_saved(runtime, cast):
    with runtime.factory() as session, pytest.raises(ValidationFailed) as refused, session.begin():
        sites.save_site(session, code="partenaire_b", name="Partenaire B", kind=SiteKind.partner,
                        motif_codes=["suivi_commande", "motif_inconnu"])
    assert refused.value.code == "unknown_motif"
    with runtime.factory() as session, session.begin():
        assert session.scalar(select(Site).where(Site.code == "partenaire_b")) is None
        saved = sites.save_site(session, code="partenaire_b", name="Partenaire B", kind=SiteKind.partner,
                                motif_codes=["suivi_commande"])
        assert saved.motif_codes == ["suivi_commande"]
