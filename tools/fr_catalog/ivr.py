"""French for the ivr web pages (merged by tools/fr_web_catalog.py)."""

FRENCH: dict[str, str] = {
    "A call to one of a flow's numbers plays that flow; any other number plays the default flow.":
        "Un appel vers l'un des numéros d'un parcours joue ce parcours ; tout autre numéro joue le parcours par "
        "défaut.",
    "Default": "Par défaut",
    "Default flow": "Parcours par défaut",
    "Definition": "Définition",
    "Delete this flow": "Supprimer ce parcours",
    "Edit": "Modifier",
    "Export JSON": "Exporter en JSON",
    "Export YAML": "Exporter en YAML",
    "File (YAML or JSON)": "Fichier (YAML ou JSON)",
    "IVR": "SVI",
    "IVR (voice menus)": "SVI (serveur vocal interactif)",
    "Menus": "Menus",
    "New flow or import": "Nouveau parcours ou import",
    "No IVR yet: calls go straight to the default phone queue.":
        "Pas encore de SVI : les appels vont directement dans la file téléphonique par défaut.",
    "No key or a wrong key (after %(retries)s retries)":
        "Aucune touche ou une mauvaise touche (après %(retries)s nouvelles tentatives)",
    "Now": "Maintenant",
    "Numbers": "Numéros",
    "Opens %(when)s": "Ouverture le %(when)s",
    "Out of hours:": "Hors horaires :",
    "Paste a definition in YAML or JSON, or choose a file. A flow with an existing code replaces it.":
        "Collez une définition en YAML ou en JSON, ou choisissez un fichier. Un parcours de même code remplace "
        "l'existant.",
    "Waiting:": "Attente :",
    "callback offered when the predicted wait exceeds %(seconds)s s":
        "rappel proposé quand l'attente prévue dépasse %(seconds)s s",
    "closed (public holiday)": "fermé (jour férié)",
    "closed now": "fermé en ce moment",
    "closed now (public holiday)": "fermé en ce moment (jour férié)",
    "default flow": "parcours par défaut",
    "estimated wait announced": "temps d'attente annoncé",
    "hang up": "raccrocher",
    "menu": "menu",
    "message, then hang up": "message, puis raccrocher",
    "no wait announcement": "pas d'annonce du temps d'attente",
    "none (default flow only)": "aucun (parcours par défaut seulement)",
    "open now": "ouvert en ce moment",
    "queue": "file",
    "repeat the menu": "répéter le menu",
    "start": "départ",
    "voicemail": "messagerie vocale",
    # console call controls and the incoming-call pop-up
    "Call controls": "Commandes d'appel",
    "Earlier contacts: %(count)s": "Contacts précédents : %(count)s",
    "First contact": "Premier contact",
    "Hang up": "Raccrocher",
    "Hold": "Mettre en attente",
    "IVR path:": "Parcours SVI :",
    "Number withheld": "Numéro masqué",
    "On hold": "En attente",
    "Resume the call": "Reprendre l'appel",
}
