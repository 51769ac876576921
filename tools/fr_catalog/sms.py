"""French for the SMS parts of the console (segment counter, STOP), merged by tools/fr_web_catalog.py."""

FRENCH: dict[str, str] = {
    "%(encoding)s · %(segments)s SMS · %(remaining)s characters left":
        "%(encoding)s · %(segments)s SMS · %(remaining)s caractères restants",
    "(because of %(characters)s)": "(à cause de %(characters)s)",
    "SMS opt-out (STOP) since %(when)s": "désinscrit des SMS (STOP) depuis le %(when)s",
    "This number opted out of text messages (STOP): an SMS reply will be refused. Answer on another channel, "
    "or write an internal note.":
        "Ce numéro a demandé à ne plus recevoir de SMS (STOP) : une réponse par SMS sera refusée. Répondez par un "
        "autre canal, ou écrivez une note interne.",
}
