"""French for the chat web pages (merged by tools/fr_web_catalog.py)."""

FRENCH: dict[str, str] = {
    "Your message is too long (%(length)s characters; at most %(limit)s).":
        "Votre message est trop long (%(length)s caractères ; %(limit)s au plus).",
    "This message is far too long (at most %(limit)s characters).":
        "Ce message est bien trop long (%(limit)s caractères au plus).",
    "Write a message first.": "Écrivez d'abord un message.",
    "You are sending messages too fast; wait a few seconds.":
        "Vous envoyez des messages trop vite ; patientez quelques secondes.",
    "This request is not understood.": "Cette demande n'est pas comprise.",
    "Start the chat first.": "Commencez d'abord la discussion.",
    "This chat has already started.": "Cette discussion a déjà commencé.",
    "This chat has ended.": "Cette discussion est terminée.",
    "Sending by email is not available right now.": "L'envoi par e-mail n'est pas disponible pour le moment.",
    "Callback requests are not available right now.":
        "Les demandes de rappel ne sont pas disponibles pour le moment.",
    "This chat cannot be found; start a new one.": "Cette discussion est introuvable ; commencez-en une nouvelle.",
    "Here is the transcript of your chat with our customer service.":
        "Voici la transcription de votre discussion avec notre service client.",
    "Your chat transcript": "Transcription de votre discussion",
    "Web chat demo": "Démonstration de la discussion en ligne",
    "This page stands for your own website. The chat button at the bottom right comes from one script tag:":
        "Cette page tient lieu de votre propre site. Le bouton de discussion en bas à droite vient d'une seule balise script :",
    "Its styles live in a shadow root: this page's styles do not reach it, and its styles do not leak out.":
        "Ses styles vivent dans une racine fantôme (shadow DOM) : ceux de la page ne l'atteignent pas, et les siens ne débordent pas.",
    "The customer is typing…": "Le client écrit…",
}
