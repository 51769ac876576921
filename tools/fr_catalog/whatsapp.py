"""French for the WhatsApp parts of the agent console (merged by tools/fr_web_catalog.py)."""

FRENCH: dict[str, str] = {
    "WhatsApp: free text allowed for %(left)s more (the 24-hour window closes at %(time)s).":
        "WhatsApp : texte libre possible encore %(left)s (la fenêtre de 24 heures se ferme à %(time)s).",
    "WhatsApp: the 24-hour window closed at %(time)s. Only an approved template can be sent until the customer writes again.":
        "WhatsApp : la fenêtre de 24 heures s'est fermée à %(time)s. Seul un modèle approuvé peut être envoyé "
        "jusqu'à ce que le client écrive de nouveau.",
    "WhatsApp: the customer has not written on WhatsApp. Only an approved template can be sent.":
        "WhatsApp : le client n'a pas écrit sur WhatsApp. Seul un modèle approuvé peut être envoyé.",
    "Send an approved WhatsApp template": "Envoyer un modèle WhatsApp approuvé",
    "Variable %(n)s": "Variable %(n)s",
    "Send this template": "Envoyer ce modèle",
    "No approved WhatsApp template yet: an administrator adds them with the command accueil whatsapp template add.":
        "Aucun modèle WhatsApp approuvé pour l'instant : un administrateur les ajoute avec la commande "
        "accueil whatsapp template add.",
}
