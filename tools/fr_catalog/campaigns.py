"""French for the outbound campaign pages: the agent's campaign view and the supervisors' pages (merged by
tools/fr_web_catalog.py)."""

FRENCH: dict[str, str] = {
    # navigation and lists
    "Calls to make": "Appels à passer",
    "Campaigns": "Campagnes",
    "Campaign": "Campagne",
    "No campaign is running.": "Aucune campagne en cours.",
    "No campaign yet.": "Aucune campagne pour l'instant.",
    "preview": "preview",
    "progressive": "progressif",
    "Prospecting": "Prospection",
    "Service calls": "Appels de service",
    # the agent's campaign view
    "%(done)s of %(total)s targets done": "%(done)s cibles traitées sur %(total)s",
    "Nobody can be called right now: every target is done, or waiting for a lawful time.":
        "Personne ne peut être appelé maintenant : toutes les cibles sont traitées ou attendent une heure légale.",
    "No telephony can dial for you: dial %(phone)s on your phone now. The attempt is recorded.":
        "Aucune téléphonie ne peut composer pour vous : composez le %(phone)s sur votre poste. L'appel est enregistré.",
    "Calling %(phone)s…": "Appel du %(phone)s…",
    "Outcome recorded.": "Résultat enregistré.",
    "Calls so far": "Appels passés",
    "The law still allows": "La loi permet encore",
    "%(n)s calls in the next 30 days": "%(n)s appels sur les 30 prochains jours",
    "Last outcome": "Dernier résultat",
    "Open the customer's journey": "Ouvrir le parcours du client",
    "Known customer: the journey opens with the first call.": "Client connu : le parcours s'ouvre au premier appel.",
    "New prospect: a customer record is created with the first call.":
        "Nouveau prospect : une fiche client est créée au premier appel.",
    "How did the call go?": "Comment s'est passé l'appel ?",
    "Sale": "Vente",
    "Refused the offer": "Refus de l'offre",
    "Busy": "Occupé",
    "Sale amount (€)": "Montant de la vente (€)",
    "Only for a sale.": "Seulement pour une vente.",
    "Record the outcome": "Enregistrer le résultat",
    "Dial %(phone)s": "Appeler le %(phone)s",
    "Skip for now": "Passer pour l'instant",
    "Next target": "Cible suivante",
    "Calls are placed for you when you are available: accept them in the console.":
        "Les appels sont lancés pour vous quand vous êtes disponible : acceptez-les dans la console.",
    # supervisors: list and creation
    "Targets": "Cibles",
    "Calls placed": "Appels passés",
    "Refused by the law": "Refusés par la loi",
    "New campaign": "Nouvelle campagne",
    "Name in French": "Nom en français",
    "Name in English": "Nom en anglais",
    "Purpose": "Finalité",
    "Mode": "Mode",
    "Queue (progressive)": "File d'attente (progressif)",
    "Calls per target (at most 4)": "Appels par cible (4 au plus)",
    "Minutes before trying again": "Minutes avant de réessayer",
    "Email subject": "Objet de l'e-mail",
    "Create the campaign": "Créer la campagne",
    # supervisors: one campaign
    "Start": "Démarrer",
    "Finish": "Terminer",
    "Progress": "Avancement",
    "Sales": "Ventes",
    "Fill the list": "Remplir la liste",
    "CSV file (phone, email, name, customer_number)": "Fichier CSV (phone, email, name, customer_number)",
    "Import": "Importer",
    "Customers": "Clients",
    "whose case was resolved in the last days": "dont la demande a été résolue ces derniers jours",
    "whose call was abandoned and not called back": "dont l'appel a été abandonné et pas rappelé",
    "Days": "Jours",
    "Add them": "Les ajouter",
    "Compliance report": "Rapport de conformité",
    "Computed from every recorded call, in the consumer's time zone (Code de la consommation, art. D. 223-9 and L. 223-1).":
        "Calculé à partir de chaque appel enregistré, à l'heure du consommateur (Code de la consommation, "
        "art. D. 223-9 et L. 223-1).",
    "Export as CSV": "Exporter en CSV",
    "No call outside 10–13 h and 14–20 h (consumer's time) without consent":
        "Aucun appel hors 10 h–13 h et 14 h–20 h (heure du consommateur) sans consentement",
    "No consumer called more than 4 times in any 30 days": "Aucun consommateur appelé plus de 4 fois sur 30 jours",
    "No call within 60 days of a refusal": "Aucun appel dans les 60 jours suivant un refus",
    "No opposed non-customer called": "Aucun non-client inscrit sur la liste d'opposition appelé",
    "%(n)s violations": "%(n)s manquements",
    "Calls the dialer refused": "Appels refusés par le composeur",
    "Consumer's local time": "Heure du consommateur",
    "Placed": "Passé",
    "Rule": "Règle",
    "allowed": "permis",
    "Next attempt": "Prochain essai",
    "Why": "Motif",
    # SMS and email campaigns
    "No prospecting message without consent or a contract (art. L. 34-5 CPCE)":
        "Aucun message de prospection sans consentement ni contrat (art. L. 34-5 CPCE)",
    "No prospecting SMS on Sundays, public holidays or outside 8–20 h (consumer's time)":
        "Aucun SMS de prospection le dimanche, un jour férié ou hors 8 h–20 h (heure du consommateur)",
    "SMS": "SMS",
    "Text sent": "Texte envoyé",
    "Each message also says how to object: « STOP » on an SMS, an unsubscribe link in an email.":
        "Chaque message indique aussi comment s'opposer : « STOP » pour un SMS, un lien de désinscription dans un e-mail.",
    "Messages sent": "Messages envoyés",
    "Held back by the rules": "Retenus par les règles",
    "Receipts": "Accusés",
    "Computed from every recorded message, in the consumer's time zone (Code des postes et des communications électroniques, art. L. 34-5).":
        "Calculé à partir de chaque message enregistré, dans le fuseau horaire du consommateur (Code des postes et des communications électroniques, art. L. 34-5).",
    "Messages held back": "Messages retenus",
    "Message text (SMS, email): {first_name}, {last_name}, {name}, {customer_number}":
        "Texte du message (SMS, e-mail) : {first_name}, {last_name}, {name}, {customer_number}",
    # the unsubscribe page
    "Unsubscribe": "Se désinscrire",
    "This unsubscribe link is not valid. Answer the email you received and ask us to stop: we will.":
        "Ce lien de désinscription n'est pas valide. Répondez à l'e-mail reçu en demandant l'arrêt : nous le ferons.",
    "You are unsubscribed": "Vous êtes désinscrit",
    "You will receive no more offers from us by email. Messages about your own orders and requests still reach you.":
        "Vous ne recevrez plus nos offres par e-mail. Les messages sur vos commandes et vos demandes vous parviennent toujours.",
    "Do you want to stop receiving our offers by email?": "Voulez-vous ne plus recevoir nos offres par e-mail ?",
    # consents to calls outside the legal hours
    "Consents to calls": "Consentements aux appels",
    "A consumer's express prior consent lets a prospecting call reach them outside the legal days and hours (art. D. 223-9, 2nd paragraph) — nothing else: the four calls in thirty days and the sixty days after a refusal still apply. Record each with its proof.":
        "Le consentement exprès et préalable d'un consommateur permet de l'appeler en prospection hors des jours et heures légaux (art. D. 223-9, 2e alinéa) — rien d'autre : les quatre appels sur trente jours et les soixante jours après un refus s'appliquent toujours. Enregistrez chacun avec sa preuve.",
    "Customer": "Client",
    "Given on": "Donné le",
    "Proof": "Preuve",
    "withdrawn on %(when)s": "retiré le %(when)s",
    "in force": "en vigueur",
    "Withdraw": "Retirer",
    "No consent recorded yet.": "Aucun consentement enregistré pour l'instant.",
    "Record a consent": "Enregistrer un consentement",
    "Phone number": "Numéro de téléphone",
    "or customer number": "ou numéro client",
    "Given on (your local time)": "Donné le (votre heure locale)",
    "Proof (form, recording reference, signed paper…)": "Preuve (formulaire, référence d'enregistrement, papier signé…)",
    "Record the consent": "Enregistrer le consentement",
}
