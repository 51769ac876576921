"""French and English for messages people read through the API and CLI.

The web interface gets full Babel catalogs; messages of the domain layer live here, keyed by their
stable error code, so an API client gets the same code whatever language it asks for.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("fr", "en")

ERROR_MESSAGES: dict[str, dict[str, str]] = {
    "validation_error": {
        "en": "The request is not valid: {summary}",
        "fr": "La requête n'est pas valide : {summary}",
    },
    "unknown_channel": {
        "en": "Unknown channel kind {value!r}; expected one of {allowed}.",
        "fr": "Type de canal inconnu {value!r} ; valeurs possibles : {allowed}.",
    },
    "unknown_motif": {
        "en": "Unknown motif {value!r}.",
        "fr": "Motif inconnu {value!r}.",
    },
    "unknown_queue": {"en": "Unknown queue {value!r}.", "fr": "File d'attente inconnue {value!r}."},
    "invalid_imap_security": {"en": "Unknown IMAP security {value!r} (ssl, starttls or none).",
                              "fr": "Sécurité IMAP inconnue {value!r} (ssl, starttls ou none)."},
    # the knowledge base (knowledge/)
    "names_required": {"en": "A name in French and in English is required.",
                       "fr": "Un nom en français et en anglais est requis."},
    "article_titles_required": {"en": "An article needs a title in French and in English.",
                                "fr": "Un article a besoin d'un titre en français et en anglais."},
    "article_bodies_required": {"en": "An article needs its text in French and in English.",
                                "fr": "Un article a besoin de son texte en français et en anglais."},
    "article_too_long": {"en": "An article's text is at most {limit} characters.",
                         "fr": "Le texte d'un article fait au plus {limit} caractères."},
    "unknown_category": {"en": "No knowledge category {value!r}.", "fr": "Aucune catégorie d'articles {value!r}."},
    # campaign texts and consents (channels/outbound)
    "campaign_text_required": {"en": "An SMS or email campaign needs its text.",
                               "fr": "Une campagne SMS ou e-mail a besoin de son texte."},
    "campaign_subject_required": {"en": "An email campaign needs its subject.",
                                  "fr": "Une campagne e-mail a besoin de son objet."},
    "campaign_text_too_long": {"en": "The text is longer than {limit} characters.",
                               "fr": "Le texte dépasse {limit} caractères."},
    "campaign_text_brace": {"en": "The text has an unmatched {{ or }}.",
                            "fr": "Le texte contient une accolade {{ ou }} sans sa paire."},
    "campaign_text_variable": {"en": "{{{name}}} is not a variable; use {variables}.",
                               "fr": "{{{name}}} n'est pas une variable ; utilisez {variables}."},
    "campaign_progressive_voice": {"en": "Only call campaigns are progressive.",
                                   "fr": "Seules les campagnes d'appels sont progressives."},
    "consent_proof_required": {"en": "A consent is recorded with its proof.",
                               "fr": "Un consentement s'enregistre avec sa preuve."},
    "consent_in_future": {"en": "A consent is given before it is recorded.",
                          "fr": "Un consentement est donné avant d'être enregistré."},
    "consent_date_invalid": {"en": "The date of the consent is a date and a time.",
                             "fr": "La date du consentement est une date et une heure."},
    "unknown_customer_number": {"en": "No customer has the number {value}.",
                                "fr": "Aucun client n'a le numéro {value}."},
    "sms_opted_out": {"en": "The customer opted out of text messages on this number (STOP): the reply was not sent. "
                            "Answer them on another channel.",
                      "fr": "Le client a demandé à ne plus recevoir de SMS sur ce numéro (STOP) : la réponse n'est "
                            "pas envoyée. Répondez-lui par un autre canal."},
    "no_recipient": {"en": "The customer has no {channel} address to send this reply to.",
                     "fr": "Le client n'a pas d'adresse {channel} à laquelle envoyer cette réponse."},
    "whatsapp_window_closed": {
        "en": "More than 24 hours have passed since the customer's last WhatsApp message: WhatsApp only allows "
              "an approved template now, until the customer writes again.",
        "fr": "Plus de 24 heures se sont écoulées depuis le dernier message WhatsApp du client : WhatsApp "
              "n'autorise plus qu'un modèle approuvé, jusqu'à ce que le client écrive de nouveau."},
    "whatsapp_template_not_approved": {
        "en": "The WhatsApp template {name} ({language}) is not approved by Meta: it cannot be sent.",
        "fr": "Le modèle WhatsApp {name} ({language}) n'est pas approuvé par Meta : il ne peut pas être envoyé."},
    "whatsapp_template_variables": {
        "en": "The template {name} needs {expected} value(s), each on one line and not empty.",
        "fr": "Le modèle {name} demande {expected} valeur(s), chacune sur une ligne et non vide."},
    "whatsapp_template_numbering": {
        "en": "Template variables must be numbered {{{{1}}}}, {{{{2}}}}… without a gap (found {found}).",
        "fr": "Les variables d'un modèle se numérotent {{{{1}}}}, {{{{2}}}}… sans trou (trouvé {found})."},
    "whatsapp_template_exists": {"en": "The WhatsApp template {name} ({language}) already exists.",
                                 "fr": "Le modèle WhatsApp {name} ({language}) existe déjà."},
    "whatsapp_not_the_channel": {
        "en": "This case's current exchange is not on WhatsApp: a WhatsApp template cannot be sent on it.",
        "fr": "L'échange en cours de ce dossier n'est pas sur WhatsApp : un modèle WhatsApp ne peut pas y être envoyé."},
    "letter_empty": {"en": "{file}: the file is empty.", "fr": "{file} : le fichier est vide."},
    "letter_type": {"en": "{file}: not a scanned letter ({allowed} only).",
                    "fr": "{file} : ce n'est pas un courrier scanné ({allowed} seulement)."},
    "letter_too_large": {"en": "{file}: larger than the limit of {limit} bytes.",
                         "fr": "{file} : plus grand que la limite de {limit} octets."},
    "letter_already_filed": {"en": "This letter is already filed ({status}).",
                             "fr": "Ce courrier est déjà classé ({status})."},
    "letter_sender_required": {
        "en": "Choose a customer, or give the new customer's name and a postal address or customer number.",
        "fr": "Choisissez un client, ou donnez le nom du nouveau client et une adresse postale ou un numéro client.",
    },
    "letter_refused": {"en": "The letter could not be filed: {reason}.",
                       "fr": "Le courrier n'a pas pu être classé : {reason}."},
    "form_exists": {"en": "The form {code} already exists.", "fr": "Le formulaire {code} existe déjà."},
    "unknown_mailbox": {"en": "Unknown mailbox {value!r}.", "fr": "Boîte de réception inconnue {value!r}."},
    "invalid_code": {"en": "Invalid code {value!r}: letters, digits, - and _ only.",
                     "fr": "Code invalide {value!r} : lettres, chiffres, - et _ seulement."},
    "consent_required": {"en": "Please accept that we use your details to answer you.",
                         "fr": "Merci d'accepter que nous utilisions vos coordonnées pour vous répondre."},
    "form_too_fast": {"en": "This form was sent too quickly; please try again.",
                      "fr": "Ce formulaire a été envoyé trop vite ; merci de réessayer."},
    "form_expired": {"en": "This form has expired; it has been reloaded, please send it again.",
                     "fr": "Ce formulaire a expiré ; il a été rechargé, merci de l'envoyer à nouveau."},
    "mailbox_exists": {"en": "The mailbox {address} already exists.", "fr": "La boîte {address} existe déjà."},
    "invalid_language": {"en": "Unknown language {value!r} (fr or en).", "fr": "Langue inconnue {value!r} (fr ou en)."},
    "unknown_skill": {"en": "Unknown skill {value!r}.", "fr": "Compétence inconnue {value!r}."},
    "unknown_site": {"en": "Unknown site {value!r}.", "fr": "Site inconnu {value!r}."},
    "stale_decision": {
        "en": "This work has moved on since you last saw it ({reason}); refresh and try again.",
        "fr": "Ce travail a changé depuis votre dernier affichage ({reason}) ; actualisez et réessayez.",
    },
    "slot_unavailable": {
        "en": "This time is no longer available; please choose another one.",
        "fr": "Ce créneau n'est plus disponible ; merci d'en choisir un autre.",
    },
    "motif_not_bookable": {
        "en": "Appointments for {value!r} cannot be booked at this agency.",
        "fr": "Le motif {value!r} ne peut pas être réservé dans cette agence.",
    },
    "contact_required": {
        "en": "Give an email address or a mobile number, so we can confirm the appointment.",
        "fr": "Indiquez une adresse e-mail ou un numéro de mobile, pour que nous confirmions le rendez-vous.",
    },
    "slot_required": {"en": "Please choose a time.", "fr": "Merci de choisir un horaire."},
    "name_required": {"en": "Please give your name.", "fr": "Merci d'indiquer votre nom."},
    "appointment_link_invalid": {
        "en": "This link is not valid (or no longer).",
        "fr": "Ce lien n'est pas (ou plus) valide.",
    },
    "appointment_state": {
        "en": "This appointment is {status}: it cannot be {action}.",
        "fr": "Ce rendez-vous est à l'état « {status} » : impossible de faire « {action} ».",
    },
    "not_agency_staff": {
        "en": "Only the agency's own staff, supervisors and administrators may do this.",
        "fr": "Seuls le personnel de l'agence, les superviseurs et les administrateurs peuvent faire ceci.",
    },
    "too_many_requests": {
        "en": "Too many requests from your address; try again in {retry_after} seconds.",
        "fr": "Trop de demandes depuis votre adresse ; réessayez dans {retry_after} secondes.",
    },
    "cross_origin": {
        "en": "This form must be sent from this site's own page.",
        "fr": "Ce formulaire doit être envoyé depuis la page de ce site.",
    },
    "provider_failed": {
        "en": "The telephony provider ({provider}) did not carry this out: {reason}. Nothing was changed.",
        "fr": "L'opérateur téléphonique ({provider}) n'a pas exécuté la commande : {reason}. Rien n'a été modifié.",
    },
    "routing_refused": {
        "en": "Routing refused this: {reason}.",
        "fr": "Le routage refuse cette opération : {reason}.",
    },
    "invalid_email": {
        "en": "{value!r} is not a valid email address.",
        "fr": "{value!r} n'est pas une adresse e-mail valide.",
    },
    "invalid_phone": {
        "en": "{value!r} is not a valid phone number.",
        "fr": "{value!r} n'est pas un numéro de téléphone valide.",
    },
    "invalid_postal_address": {
        "en": "{value!r} is not a postal address (two to six lines, the last with the postcode and town).",
        "fr": "{value!r} n'est pas une adresse postale (deux à six lignes, la dernière avec le code postal et la ville).",
    },
    "invalid_identity": {
        "en": "{value!r} is not a valid {kind} identifier.",
        "fr": "{value!r} n'est pas un identifiant {kind} valide.",
    },
    "identity_required": {
        "en": "At least one customer identity (email, phone…) is required.",
        "fr": "Au moins un identifiant client (e-mail, téléphone…) est requis.",
    },
    "identity_taken": {
        "en": "The {kind} identity {value!r} already belongs to another customer.",
        "fr": "L'identifiant {kind} {value!r} appartient déjà à un autre client.",
    },
    "body_too_long": {
        "en": "The message body has {length} characters; the limit is {limit}.",
        "fr": "Le message fait {length} caractères ; la limite est de {limit}.",
    },
    "empty_message": {
        "en": "The message has neither text nor attachment.",
        "fr": "Le message n'a ni texte ni pièce jointe.",
    },
    "attachment_too_large": {
        "en": "Attachment {filename!r} has {size} bytes; the limit is {limit}.",
        "fr": "La pièce jointe {filename!r} fait {size} octets ; la limite est de {limit}.",
    },
    "attachment_type_refused": {
        "en": "Attachments of type {content_type!r} are not accepted.",
        "fr": "Les pièces jointes de type {content_type!r} ne sont pas acceptées.",
    },
    "too_many_attachments": {
        "en": "{count} attachments given; the limit is {limit}.",
        "fr": "{count} pièces jointes ; la limite est de {limit}.",
    },
    "invalid_attachment": {
        "en": "Attachment {filename!r} is not valid base64.",
        "fr": "La pièce jointe {filename!r} n'est pas en base64 valide.",
    },
    "not_found": {"en": "No {kind} with id {id!r}.", "fr": "Aucun(e) {kind} avec l'identifiant {id!r}."},
    "invalid_transition": {
        "en": "A case cannot go from {current!r} to {target!r}.",
        "fr": "Une demande ne peut pas passer de {current!r} à {target!r}.",
    },
    "case_not_resolved": {
        "en": "Only a resolved or closed case can be reopened (this one is {status!r}).",
        "fr": "Seule une demande résolue ou close peut être rouverte (celle-ci est {status!r}).",
    },
    "case_closed": {
        "en": "The case is closed; reopen it first.",
        "fr": "La demande est close ; rouvrez-la d'abord.",
    },
    "merge_same_customer": {
        "en": "A customer cannot be merged into itself.",
        "fr": "Un client ne peut pas être fusionné avec lui-même.",
    },
    "customer_merged": {
        "en": "Customer {id!r} was merged into {into!r}.",
        "fr": "Le client {id!r} a été fusionné dans {into!r}.",
    },
    "unauthenticated": {
        "en": "A valid API token is required (Authorization: Bearer …).",
        "fr": "Un jeton d'API valide est requis (Authorization: Bearer …).",
    },
    "missing_scope": {
        "en": "This token lacks the {scope!r} scope.",
        "fr": "Ce jeton n'a pas la portée {scope!r}.",
    },
    "forbidden": {"en": "You may not do this.", "fr": "Vous n'avez pas le droit de faire ceci."},
    "idempotency_key_reused": {
        "en": "This Idempotency-Key was already used with a different request.",
        "fr": "Cette Idempotency-Key a déjà servi pour une autre requête.",
    },
    "invalid_cursor": {"en": "The pagination cursor is not valid.", "fr": "Le curseur de pagination n'est pas valide."},
    "invalid_scope": {
        "en": "Unknown scope {value!r}; expected some of {allowed}.",
        "fr": "Portée inconnue {value!r} ; valeurs possibles : {allowed}.",
    },
    "http_error": {"en": "{detail}", "fr": "{detail}"},
    "request_too_large": {
        "en": "The request body is over the limit of {limit} bytes.",
        "fr": "Le corps de la requête dépasse la limite de {limit} octets.",
    },
    "route_not_found": {"en": "No such API route.", "fr": "Cette route d'API n'existe pas."},
    "method_not_allowed": {"en": "Method not allowed on this route.", "fr": "Méthode non autorisée sur cette route."},
    "case_out_of_scope": {
        "en": "This case is outside your site's scope (its level or its motif).",
        "fr": "Cette demande est hors du périmètre de votre site (son niveau ou son motif).",
    },
    "csrf_failed": {
        "en": "This form had expired or did not come from accueil. Reload the page and try again.",
        "fr": "Ce formulaire avait expiré ou ne venait pas d'accueil. Rechargez la page et réessayez.",
    },
    "wrong_password": {
        "en": "The current password is not right.",
        "fr": "Le mot de passe actuel n'est pas le bon.",
    },
    "password_too_short": {
        "en": "The new password needs at least {limit} characters.",
        "fr": "Le nouveau mot de passe doit compter au moins {limit} caractères.",
    },
    "password_unchanged": {
        "en": "The new password is the same as the current one.",
        "fr": "Le nouveau mot de passe est identique à l'actuel.",
    },
    "customer_out_of_scope": {
        "en": "This customer is outside your site's scope.",
        "fr": "Ce client est hors du périmètre de votre site.",
    },
    "internal_error": {
        "en": "Internal error; nothing was changed. Reference {reference}.",
        "fr": "Erreur interne ; rien n'a été modifié. Référence {reference}.",
    },
}


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def error_message(code: str, language: str, details: dict[str, Any] | None = None) -> str:
    templates = ERROR_MESSAGES.get(code) or {"en": code, "fr": code}
    template = templates.get(language) or templates["en"]
    try:
        return template.format_map(_Lenient(details or {}))
    except (ValueError, KeyError, IndexError):
        return template


def pick_language(accept_language: str | None, default: str = "fr") -> str:
    """The first supported language in an Accept-Language header, by quality."""
    if not accept_language:
        return default
    ranked: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((quality, tag.strip().lower()[:2]))
    for _, lang in sorted(ranked, key=lambda item: -item[0]):
        if lang in LANGUAGES:
            return lang
    return default
