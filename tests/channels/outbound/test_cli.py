"""``accueil campaign``: an opposition file imported in batches (twice: nothing doubled), a CSV list added
to a campaign with its per-line errors, and the compliance checks printed (on an embedded SQLite database, in the default language: French)."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from accueil.channels.outbound import service
from accueil.channels.outbound.models import CampaignTarget, OppositionNumber
from accueil.cli import main
from accueil.config import get_settings
from accueil.core import clock


def test_opposition_import_list_import_and_report(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCUEIL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ACCUEIL_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    bloctel = tmp_path / "bloctel.txt"
    bloctel.write_text("\n".join(["# extract"] + [f"+3361{n:07d}" for n in range(250)] + ["nonsense"]) + "\n")
    first = runner.invoke(main, ["campaign", "opposition-import", str(bloctel), "--batch-size", "100"])
    assert first.exit_code == 0, first.output
    assert "250 numéros ajoutés, 0 déjà inscrits, 1 lignes invalides" in first.output
    again = runner.invoke(main, ["campaign", "opposition-import", str(bloctel)])
    assert "0 numéros ajoutés, 250 déjà inscrits" in again.output
    engine = create_engine(get_settings().effective_database_url)
    with Session(engine) as session, session.begin():
        assert session.scalar(select(func.count()).select_from(OppositionNumber)) == 250
        service.do_create_campaign(session, code="noel", name_fr="Noël", name_en="Christmas", now=clock.now())
    listing = tmp_path / "list.csv"
    listing.write_text("phone,name\n+33610000001,Opposed\n0699887766,Free\nbad,Bad\n")
    imported = runner.invoke(main, ["campaign", "import-list", "noel", str(listing)])
    assert imported.exit_code == 0, imported.output
    assert "ligne 4 : 'bad' n'est pas un numéro de téléphone valide" in imported.output
    assert "2 ajoutés, 0 fusionnés avec une ligne déjà présente, 1 exclus, 1 refusés" in imported.output
    with Session(engine) as session:
        statuses = dict(session.execute(select(CampaignTarget.phone, CampaignTarget.status)).all())
        assert statuses == {"+33610000001": "excluded", "+33699887766": "pending"}
    checked = runner.invoke(main, ["campaign", "report", "noel"])
    assert checked.exit_code == 0 and "legal_hours: OK" in checked.output
    assert runner.invoke(main, ["campaign", "report", "nope"]).exit_code != 0
    engine.dispose()
    get_settings.cache_clear()


def test_a_consent_recorded_and_withdrawn_from_the_command_line(tmp_path, monkeypatch):
    from accueil.channels.outbound.models import ProspectingConsent

    monkeypatch.setenv("ACCUEIL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ACCUEIL_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    future = runner.invoke(main, ["campaign", "consent", "--phone", "06 99 88 77 66", "--proof", "papier",
                                  "--given-at", "2099-01-01T10:00"])
    assert future.exit_code != 0 and "donné avant d'être enregistré" in future.output
    unknown = runner.invoke(main, ["campaign", "consent", "--customer-number", "CL404", "--proof", "papier"])
    assert unknown.exit_code != 0 and "Aucun client n'a le numéro CL404" in unknown.output
    made = runner.invoke(main, ["campaign", "consent", "--phone", "06 99 88 77 66", "--proof", "formulaire web",
                                "--given-at", "2026-12-01T10:00"])
    assert made.exit_code == 0, made.output
    consent_id = made.output.strip()
    assert runner.invoke(main, ["campaign", "consent-withdraw", consent_id]).exit_code == 0
    assert runner.invoke(main, ["campaign", "consent-withdraw", "nope"]).exit_code != 0
    engine = create_engine(get_settings().effective_database_url)
    with Session(engine) as session:
        consent = session.get(ProspectingConsent, consent_id)
        assert consent.phone == "+33699887766" and consent.source == "formulaire web"
        assert consent.given_at.hour == 9 and consent.withdrawn_at is not None  # 10:00 Paris is 09:00 UTC
    engine.dispose()
    get_settings.cache_clear()
