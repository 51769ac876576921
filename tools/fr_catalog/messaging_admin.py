"""French for the administrators' messaging page (providers, webhook addresses, SMS senders, WhatsApp
templates), merged by tools/fr_web_catalog.py."""

FRENCH: dict[str, str] = {
    "Messaging": "Messagerie",
    "Messaging channels": "Canaux de messagerie",
    "Social networks": "Réseaux sociaux",
    "Accounts and secrets are settings (see docs/settings.md); this page shows which are set, never their values.":
        "Les comptes et les secrets sont des réglages (voir docs/settings.md) : cette page montre lesquels sont "
        "renseignés, jamais leur valeur.",
    "Messages leave through: %(provider)s": "Les messages partent par : %(provider)s",
    "No provider configured: nothing can be sent on this channel.":
        "Aucun fournisseur configuré : rien ne peut être envoyé sur ce canal.",
    "Webhook addresses to give the provider": "Adresses de webhook à donner au fournisseur",
    "Setting": "Réglage",
    "Set": "Renseigné",
    "Value": "Valeur",
    "(secret)": "(secret)",
    "SMS senders per queue": "Expéditeurs SMS par file",
    "Sender": "Expéditeur",
    "One sender for every queue (ACCUEIL_SMS_SENDER).": "Un seul expéditeur pour toutes les files (ACCUEIL_SMS_SENDER).",
    "WhatsApp message templates": "Modèles de messages WhatsApp",
    "Outside the 24-hour customer-service window, only an approved template may be sent. Create it in Meta's WhatsApp Manager with the same name and language, then mark it approved here once Meta has approved it.":
        "Hors de la fenêtre de service client de 24 heures, seul un modèle approuvé peut être envoyé. Créez-le dans "
        "le WhatsApp Manager de Meta avec le même nom et la même langue, puis marquez-le approuvé ici une fois que "
        "Meta l'a approuvé.",
    "Category": "Catégorie",
    "Text": "Texte",
    "Approved": "Approuvé",
    "Withdraw approval": "Retirer l'approbation",
    "Mark approved": "Marquer approuvé",
    "No template yet.": "Aucun modèle pour l'instant.",
    "New template": "Nouveau modèle",
    "Name (lowercase letters, digits, _)": "Nom (minuscules, chiffres, _)",
    "Text, with {{1}}, {{2}}… for the variables": "Texte, avec {{1}}, {{2}}… pour les variables",
    "Already approved by Meta": "Déjà approuvé par Meta",
    "Add the template": "Ajouter le modèle",
    "%(setting)s names the queue « %(code)s », which does not exist: new conversations on that channel are refused (the provider retries them) until you create it under Queues or change the setting.":
        "%(setting)s désigne la file « %(code)s », qui n'existe pas : les nouvelles conversations de ce canal sont "
        "refusées (le fournisseur les renvoie) tant que vous ne l'avez pas créée dans Files ou changé le réglage.",
}
