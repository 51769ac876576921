"""Write the French web catalog from the extracted template and this table (run after changing strings):

    .venv/bin/pybabel extract -F babel.cfg -k translate:2 -o src/accueil/web/locales/messages.pot \
        --no-location --sort-output --omit-header .
    .venv/bin/python tools/fr_web_catalog.py

Domains may keep their French in ``tools/fr_catalog/<domain>.py``. A message missing from both fails loudly (and tests/web/test_i18n.py fails too).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LOCALES = Path(__file__).resolve().parents[1] / "src" / "accueil" / "web" / "locales"

FRENCH = {
    "Call back on": "Rappeler le",
    "Number": "Numéro",
    "Schedule the callback": "Programmer le rappel",
    "Callback": "Rappel",
    "scheduled": "programmé",
    "queued": "en file",
    "cancelled": "annulé",
    "simulated": "simulé",
    'Abandonment': 'Abandons',
    'Agents needed': 'Conseillers nécessaires',
    'Agents on the phone': 'Conseillers en ligne',
    'Bars: actual contacts per half-hour; line: forecast.': 'Barres : contacts réels par demi-heure ; ligne : prévision.',
    'Bars: positions to roster (shrinkage 30 %%); dark line: agents needed on the phone (target %(percent)s %% in %(seconds)s s); green line: coverage of a roster of 8-hour and 4-hour shifts built for it.': "Barres : postes à planifier (absentéisme 30 %%) ; ligne foncée : conseillers nécessaires en ligne (objectif %(percent)s %% en %(seconds)s s) ; ligne verte : couverture d'un planning de vacations de 8 h et 4 h construit pour ce besoin.",
    'Compute': 'Calculer',
    'Contacts': 'Contacts',
    'Contacts per half-hour: forecast and actual': 'Contacts par demi-heure : prévision et réel',
    'Contacts: forecast and actual': 'Contacts : prévision et réel',
    'Day': 'Jour',
    'Forecast method:': 'Méthode de prévision :',
    'Forecast total': 'Total prévu',
    'Half-hour': 'Demi-heure',
    'Handle time': 'Durée de traitement',
    'Handle time (s)': 'Durée de traitement (s)',
    "No forecast: this queue's history is too short (a week at least). The requirement below follows the actual contacts.":
        "Pas de prévision : l'historique de cette file est trop court (une semaine au moins). Le besoin ci-dessous suit les contacts réels.",
    'No queue yet.': "Aucune file pour l'instant.",
    'Patience (s)': 'Patience (s)',
    'Positions': 'Postes',
    'Positions, agents needed and roster coverage per half-hour': 'Postes, conseillers nécessaires et couverture par demi-heure',
    'Rostered': 'Planifiés',
    'Service level with %(n)s agents': 'Niveau de service avec %(n)s conseillers',
    'Show': 'Afficher',
    'Staffing requirement and roster coverage': 'Besoin en effectifs et couverture du planning',
    'Volume (%%)': 'Volume (%%)',
    'What if': 'Et si…',
    'Workforce': 'Effectifs',
    'actual total': 'total réel',
    'next day': 'jour suivant',
    'none': 'aucune',
    'previous day': 'jour précédent',
    "Go available first to take work.": "Passez disponible pour prendre du travail.",
    "Notes on the conversation": "Notes sur l'échange",
    "Reply by text message": "Répondre par SMS",
    "Reply in the chat": "Répondre dans le chat",
    "My queues": "Mes files",
    "Take the next one": "Prendre le suivant",
    "Nothing waits for you right now.": "Rien ne vous attend pour l'instant.",
    "No queue sends you work yet (skills, level or site).": "Aucune file ne vous envoie de travail (compétences, niveau ou site).",
    '(this is a family)': "(c'est une famille)",
    'A motif with an existing code is updated.': 'Un motif dont le code existe déjà est mis à jour.',
    'A site with an existing code is updated.': 'Un site dont le code existe déjà est mis à jour.',
    'Active': 'Actif',
    'Address': 'Adresse',
    'Administration': 'Administration',
    'Agent choice': 'Choix du conseiller',
    'Canned responses': 'Réponses types',
    'Channel': 'Canal',
    'Code': 'Code',
    'Create': 'Créer',
    'Delivery': 'Distribution',
    'E-mail': 'E-mail',
    'English': 'Anglais',
    'Expected handle time (seconds)': 'Durée de traitement attendue (secondes)',
    'Family': 'Famille',
    'French': 'Français',
    'Highest level': 'Niveau le plus haut',
    'Kind': 'Type',
    'Level 1 to 5; 0 or empty takes the skill away.': 'Niveau 1 à 5 ; 0 ou vide retire la compétence.',
    'Motifs': 'Motifs',
    'Motifs handled': 'Motifs traités',
    'Motifs handled (none = all)': 'Motifs traités (aucun = tous)',
    'Name': 'Nom',
    'Name (English)': 'Nom (anglais)',
    'Name (French)': 'Nom (français)',
    'New or changed canned response': 'Réponse type nouvelle ou modifiée',
    'New or changed motif': 'Motif nouveau ou modifié',
    'New or changed site': 'Site nouveau ou modifié',
    'New password': 'Nouveau mot de passe',
    'New queue': 'Nouvelle file',
    'New skill': 'Nouvelle compétence',
    'New team': 'Nouvelle équipe',
    'New user': 'Nouvel utilisateur',
    'Offer a callback above a predicted wait of (seconds)': "Proposer un rappel au-delà d'une attente prévue de (secondes)",
    'Opening hours (one day per line, e.g. mon 08:00-20:00; empty = always open)': "Horaires d'ouverture (un jour par ligne, ex. mon 08:00-20:00 ; vide = toujours ouvert)",
    'Order': 'Ordre',
    'Overflow queue when closed': 'File de débordement à la fermeture',
    'Overflow rules (JSON, see docs/routing.md)': 'Règles de débordement (JSON, voir docs/routing.md)',
    'Password (at least 10 characters)': 'Mot de passe (10 caractères au moins)',
    'Priority': 'Priorité',
    'Ring timeout (seconds)': 'Délai de sonnerie (secondes)',
    'Role': 'Rôle',
    'SLA (hours)': 'Délai (heures)',
    'Save': 'Enregistrer',
    'Save skills': 'Enregistrer les compétences',
    'Set the password': 'Définir le mot de passe',
    'Sites and teams': 'Sites et équipes',
    'Sites served first (codes, empty = all)': "Sites servis d'abord (codes, vide = tous)",
    'Skills': 'Compétences',
    'Skills needed (code:minimum level, …)': 'Compétences requises (code:niveau minimum, …)',
    'Target: percent': 'Objectif : pourcentage',
    'Target: within (seconds)': 'Objectif : en moins de (secondes)',
    'Team': 'Équipe',
    'Teams': 'Équipes',
    'Text (English)': 'Texte (anglais)',
    'Text (French)': 'Texte (français)',
    'Time zone': 'Fuseau horaire',
    'Title (English)': 'Titre (anglais)',
    'Title (French)': 'Titre (français)',
    'Users': 'Utilisateurs',
    'Variables:': 'Variables :',
    'When closed': 'Quand la file est fermée',
    'administrator': 'administrateur',
    'agency': 'agence',
    'agent': 'conseiller',
    'all': 'tous',
    'channel': 'canal',
    'in-house': 'interne',
    'language': 'langue',
    'motif': 'motif',
    'no': 'non',
    'partner': 'prestataire',
    'partner agent': 'conseiller prestataire',
    'supervisor': 'superviseur',
    'yes': 'oui',
    "Abandoned": "Abandonnés",
    "Accept": "Accepter",
    "Agent": "Conseiller",
    "Agents": "Conseillers",
    "Answer within": "Répondre sous",
    "Answered": "Traités",
    "Available": "Disponible",
    "Back to the start page": "Retour à l'accueil",
    "Canned response": "Réponse type",
    "Insert a canned response…": "Insérer une réponse type…",
    "Assign": "Attribuer",
    "Assigned to": "Attribuée à",
    "Assigned to %(name)s": "Attribuée à %(name)s",
    "Case search": "Recherche de demandes",
    "Cases": "Demandes",
    "Created": "Créée le",
    "From": "Du",
    "More results": "Plus de résultats",
    "No case matches.": "Aucune demande ne correspond.",
    "Reference": "Référence",
    "Reference, e-mail or phone": "Référence, e-mail ou téléphone",
    "Search": "Rechercher",
    "To": "Au",
    "Unassigned": "Non attribuée",
    "any": "tous",
    "nobody": "personne",
    "Change": "Changer",
    "Choose a motif": "Choisir un motif",
    "Escalate to level 2": "Escalader au niveau 2",
    "Queues": "Files",
    "Transfer": "Transférer",
    "Transfer to": "Transférer vers",
    "Transfer to…": "Transférer vers…",
    "Change my password": "Changer mon mot de passe",
    "Choose a piece of work on the left, or go available to receive new contacts.":
        "Choisissez un travail à gauche, ou passez disponible pour recevoir de nouveaux contacts.",
    "Console": "Console",
    "Current password": "Mot de passe actuel",
    "Current work": "Travail en cours",
    "Customer": "Client",
    "Customer journey": "Parcours client",
    "Customer-relationship centre": "Centre de relation client",
    "Decline": "Refuser",
    "Due": "Échéance",
    "End the exchange": "Terminer l'échange",
    "End wrap-up": "Terminer le post-appel",
    "Error": "Erreur",
    "Internal note": "Note interne",
    "Internal note (never sent)": "Note interne (jamais envoyée)",
    "Language": "Langue",
    "Level": "Niveau",
    "Longest wait": "Attente la plus longue",
    "Main": "Principal",
    "Messages": "Messages",
    "Motif": "Motif",
    "My status": "Mon statut",
    "My work": "Mon travail",
    "New contact": "Nouveau contact",
    "New password (at least 10 characters)": "Nouveau mot de passe (10 caractères au moins)",
    "New password again": "Nouveau mot de passe, à nouveau",
    "No message yet.": "Pas encore de message.",
    "Not allowed": "Accès refusé",
    "Not found": "Introuvable",
    "Nothing for you right now.": "Rien pour vous pour l'instant.",
    "Offline": "Hors ligne",
    "Password": "Mot de passe",
    "Pause": "Pause",
    "Pause reason": "Motif de pause",
    "Paused": "En pause",
    "Queue": "File",
    "Queues today": "Files d'attente aujourd'hui",
    "Reply to the customer": "Répondre au client",
    "Resolution": "Résolution",
    "Resolution code": "Code de résolution",
    "Resolve": "Résoudre",
    "SMS": "SMS",
    "Send": "Envoyer",
    "Service level": "Niveau de service",
    "Sign in": "Se connecter",
    "Sign out": "Se déconnecter",
    "Site": "Site",
    "Skip to content": "Aller au contenu",
    "Something went wrong": "Une erreur est survenue",
    "State": "État",
    "Status": "Statut",
    "Target": "Objectif",
    "The two new passwords differ.": "Les deux nouveaux mots de passe diffèrent.",
    "Time in state": "Depuis",
    "Too many failed attempts. Wait 15 minutes and try again.":
        "Trop d'essais infructueux. Attendez 15 minutes avant de réessayer.",
    "Unknown customer": "Client inconnu",
    "Username": "Identifiant",
    "Waiting": "En attente",
    "Wallboard": "Tableau de bord",
    "WhatsApp": "WhatsApp",
    "Wrap-up": "Post-appel",
    "Wrong username or password.": "Identifiant ou mot de passe incorrect.",
    "Your password was changed. Your other sessions were signed out.":
        "Votre mot de passe a été changé. Vos autres sessions ont été déconnectées.",
    "Your role takes no routed work.": "Votre rôle ne reçoit pas de travail routé.",
    "Your sign-in form had expired. Please try again.": "Votre formulaire de connexion avait expiré. Réessayez.",
    "abandoned": "abandonné",
    "back office": "back-office",
    "break": "pause",
    "callback": "rappel",
    "chat": "chat",
    "chat visitor": "visiteur du chat",
    "closed": "clôturée",
    "customer number": "numéro client",
    "deflected": "auto-résolu",
    "email": "e-mail",
    "failed": "échec",
    "handled": "traité",
    "in progress": "en cours",
    "letter": "courrier",
    "lunch": "déjeuner",
    "meeting": "réunion",
    "missed": "manqué",
    "missed a call": "appel manqué",
    "new": "nouvelle",
    "open": "ouverte",
    "pending": "en attente du client",
    "phone": "téléphone",
    "resolved": "résolue",
    "ringing": "sonne",
    "social": "réseaux sociaux",
    "then wrap-up": "puis post-appel",
    "training": "formation",
    "visit": "visite",
    "waiting": "en attente",
    "web form": "formulaire web",
    "wrap-up": "post-appel",
}


def domain_tables() -> dict[str, str]:
    """Each domain may keep its French in ``tools/fr_catalog/<domain>.py`` (a ``FRENCH`` dict). One message has
    one translation: a domain that translates a message differently from this table or another domain fails."""
    merged: dict[str, str] = dict(FRENCH)
    conflicts = []
    for path in sorted((Path(__file__).resolve().parent / "fr_catalog").glob("*.py")):
        namespace: dict[str, object] = {}
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
        for message, french in namespace.get("FRENCH", {}).items():  # type: ignore[union-attr]
            if merged.setdefault(message, french) != french:
                conflicts.append(f"{path.name}: {message!r} → {french!r}, elsewhere {merged[message]!r}")
    if conflicts:
        raise SystemExit("two translations for one message:\n  " + "\n  ".join(conflicts))
    return merged


def main() -> int:
    FRENCH.update(domain_tables())  # fails on a message translated two ways
    with (LOCALES / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    catalog = Catalog(locale="fr", project="accueil", fuzzy=False)
    missing = []
    for message in template:
        if not message.id:
            continue
        if message.id not in FRENCH:
            missing.append(message.id)
            continue
        catalog.add(message.id, FRENCH[message.id])
    if missing:
        print("no French for:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    target = LOCALES / "fr" / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        write_po(handle, catalog, omit_header=False, sort_output=True, no_location=True, width=110)
    print(f"{len(catalog)} messages written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
