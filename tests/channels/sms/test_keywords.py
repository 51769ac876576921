"""Opt-out and opt-in keywords: the whole message only, whatever its case, accents or final punctuation."""

from __future__ import annotations

import pytest

from accueil.channels.sms.keywords import keyword_of


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop ! ", "ARRET", "Arrêt", "ARRÊTER.", "Stop SMS", "STOPALL",
                                  "stop all", "UNSUBSCRIBE", "Cancel", "END", "quit", "opt-out", "OPTOUT", "revoke",
                                  "Désinscription", "me désabonner", "STOP 36180", "stop au 36180", "«STOP»"])
def test_opt_out_keywords(text):
    assert keyword_of(text) == "stop"


@pytest.mark.parametrize("text", ["START", "start", "Unstop", "YES", "yes!"])
def test_opt_in_keywords(text):
    assert keyword_of(text) == "start"


@pytest.mark.parametrize("text", ["Stop sending me the wrong parcel", "Pouvez-vous arrêter la livraison ?",
                                  "Je veux annuler", "oui", "", "STOP " * 20, "stopper", "STOP 12", "HELP"])
def test_a_sentence_is_a_message_not_a_keyword(text):
    assert keyword_of(text) is None
