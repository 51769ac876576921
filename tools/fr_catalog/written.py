"""French for the written-work reply delays: the console's due times, the wallboard's backlog, the motif form
(merged by tools/fr_web_catalog.py)."""

FRENCH: dict[str, str] = {
    # console, my work
    "Overdue": "En retard",
    "reply due %(when)s, %(late)s late": "réponse attendue le %(when)s, %(late)s de retard",
    "Reply due %(when)s": "Réponse attendue le %(when)s",
    # wallboard
    "Written work awaiting a reply": "Écrits en attente de réponse",
    "Age since arrival (clock time). Overdue: past the reply due time, counted in opening hours.":
        "Âge depuis l'arrivée (temps réel). En retard : au-delà du délai de réponse, compté en heures d'ouverture.",
    "under 1 h": "moins d'1 h",
    "1 to 4 h": "1 à 4 h",
    "4 to 24 h": "4 à 24 h",
    "1 to 3 days": "1 à 3 jours",
    "over 3 days": "plus de 3 jours",
    "Oldest": "Plus ancien",
    "Total": "Total",
    # admin, motifs
    "Reply targets": "Délais de réponse",
    "First reply of written channels (email, webform, letter), in opening hours: 90min, 4h or 10d. Empty: the defaults.":
        "Première réponse des canaux écrits (email, webform, letter), en heures d'ouverture : 90min, 4h ou 10d "
        "(jours ouvrés). Vide : les délais par défaut.",
}
