"""French for the callback web pages (merged by tools/fr_web_catalog.py)."""

FRENCH: dict[str, str] = {
    "A confirmation is on its way by text message or email.": "Une confirmation vous est envoyée par SMS ou par e-mail.",
    # public page /portal/callback
    "Be called back": "Être rappelé",
    "Thank you. An adviser will call you on %(phone)s as soon as possible.":
        "Merci. Un conseiller vous appellera au %(phone)s dès que possible.",
    "Thank you. We will call you on %(phone)s on %(when)s.": "Merci. Nous vous appellerons au %(phone)s le %(when)s.",
    "Leave your number: an adviser calls you back, now or at the time you choose.":
        "Laissez votre numéro : un conseiller vous rappelle, tout de suite ou au moment que vous choisissez.",
    "Phone number": "Numéro de téléphone",
    "Your name (optional)": "Votre nom (facultatif)",
    "Email (optional, for the confirmation)": "E-mail (facultatif, pour la confirmation)",
    "What is it about?": "À quel sujet ?",
    "Something else": "Autre chose",
    "When?": "Quand ?",
    "As soon as possible": "Dès que possible",
    "At a time I choose": "Au moment que je choisis",
    "Time slot": "Créneau",
    "Anything we should know (optional)": "Précisions utiles (facultatif)",
    "Call me back": "Rappelez-moi",
    # the agent's outcome buttons
    "Callback to %(phone)s, attempt %(number)s: how did it go?":
        "Rappel au %(phone)s, essai %(number)s : quel résultat ?",
    "Reached": "Client joint",
    "No answer": "Pas de réponse",
    "Voicemail": "Messagerie",
    "Wrong number": "Faux numéro",
    # callback statuses
    "done": "terminé",
    "exhausted": "essais épuisés",
}
