"""French and English for what the dialer, the CSV import and the report tell people (why a call is refused,
what is wrong with a line of a file). Keyed by stable codes: the same code goes in the database and logs."""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    # the law's refusals (channels/outbound/law.py: Refusal)
    "weekend": {"en": "Prospecting calls are not allowed on Saturdays and Sundays (art. D. 223-9).",
                "fr": "Les appels de prospection sont interdits le samedi et le dimanche (art. D. 223-9)."},
    "holiday": {"en": "Prospecting calls are not allowed on public holidays (art. D. 223-9).",
                "fr": "Les appels de prospection sont interdits les jours fériés (art. D. 223-9)."},
    "outside_hours": {"en": "Prospecting calls are allowed from 10:00 to 13:00 and 14:00 to 20:00 in the "
                            "consumer's time zone only (art. D. 223-9).",
                      "fr": "Les appels de prospection ne sont permis que de 10 h à 13 h et de 14 h à 20 h, "
                            "heure du consommateur (art. D. 223-9)."},
    "too_many_attempts": {"en": "This consumer has had four calls or attempts in the last thirty days (art. D. 223-9).",
                          "fr": "Ce consommateur a déjà eu quatre appels ou tentatives sur trente jours (art. D. 223-9)."},
    "refused_recently": {"en": "This consumer refused a prospecting call less than sixty days ago (art. D. 223-9).",
                         "fr": "Ce consommateur a refusé un appel de prospection il y a moins de soixante jours "
                               "(art. D. 223-9)."},
    "opposition_list": {"en": "This number is on the opposition list and the person is not a customer (art. L. 223-1).",
                        "fr": "Ce numéro est inscrit sur la liste d'opposition et la personne n'est pas cliente "
                              "(art. L. 223-1)."},
    # the rules of campaign messages (channels/outbound/message_law.py: MessageRefusal)
    "opted_out": {"en": "This person objected to our messages on this channel (STOP or unsubscribe); nothing is sent.",
                  "fr": "Cette personne s'est opposée à nos messages sur ce canal (STOP ou désinscription) : rien "
                        "n'est envoyé."},
    "no_consent": {"en": "No consent to prospecting messages and no contract with us (art. L. 34-5 CPCE).",
                   "fr": "Ni consentement aux messages de prospection, ni contrat avec nous (art. L. 34-5 CPCE)."},
    "quiet_hours": {"en": "Prospecting SMS wait for Monday to Saturday, 8:00 to 20:00, in the consumer's time zone "
                          "(not on public holidays).",
                    "fr": "Les SMS de prospection attendent le lundi au samedi, de 8 h à 20 h, heure du "
                          "consommateur (hors jours fériés)."},
    "sms_opted_out": {"en": "This number sent STOP: no text message is sent to it.",
                      "fr": "Ce numéro a envoyé STOP : aucun SMS ne lui est envoyé."},
    # exclusions at import
    "no_phone": {"en": "No phone number to call.", "fr": "Aucun numéro à appeler."},
    "no_email": {"en": "No email address to write to.", "fr": "Aucune adresse e-mail."},
    # CSV lines
    "csv_invalid_phone": {"en": "line {line}: {value!r} is not a valid phone number",
                          "fr": "ligne {line} : {value!r} n'est pas un numéro de téléphone valide"},
    "csv_invalid_email": {"en": "line {line}: {value!r} is not a valid email address",
                          "fr": "ligne {line} : {value!r} n'est pas une adresse e-mail valide"},
    "csv_unknown_customer": {"en": "line {line}: no customer has the number {value!r}",
                             "fr": "ligne {line} : aucun client n'a le numéro {value!r}"},
    "csv_nothing_to_reach": {"en": "line {line}: no phone, email or customer number",
                             "fr": "ligne {line} : ni téléphone, ni e-mail, ni numéro client"},
    "csv_no_columns": {"en": "the file needs a header line naming phone, email, name or customer_number",
                       "fr": "le fichier doit commencer par une ligne d'en-tête : phone, email, name ou customer_number"},
    "csv_summary": {"en": "{added} added, {merged} merged with a line already there, {excluded} excluded, "
                          "{errors} refused",
                    "fr": "{added} ajoutés, {merged} fusionnés avec une ligne déjà présente, {excluded} exclus, "
                          "{errors} refusés"},
    "opposition_summary": {"en": "{added} numbers added, {known} already listed, {invalid} invalid lines",
                           "fr": "{added} numéros ajoutés, {known} déjà inscrits, {invalid} lignes invalides"},
}


def text(code: str, language: str = "en", **values: Any) -> str:
    entry = TEXTS.get(code)
    if entry is None:
        return code
    return (entry.get(language) or entry["en"]).format(**values)
