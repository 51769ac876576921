"""« Maison Lumière », the demo company: a French online retailer of home goods.

An in-house level-2 team in Lille, an outsourced level-1 partner site in Nantes, one agency in Paris;
motifs on two levels; queues per channel and level; agents with skills.
"""

from __future__ import annotations

DEMO_PASSWORD = "demo-accueil"

SITES = [
    # code, name, kind, max level, address
    ("lille", "Maison Lumière — Lille (siège)", "in_house", 3, "12 rue Nationale, 59000 Lille"),
    ("nantes-partenaire", "Relais Client — Nantes (prestataire N1)", "partner", 1, "4 quai de la Fosse, 44000 Nantes"),
    ("paris-opera", "Agence Paris Opéra", "agency", 2, "8 boulevard des Capucines, 75009 Paris"),
    ("lyon-bellecour", "Agence Lyon Bellecour", "agency", 2, "21 place Bellecour, 69002 Lyon"),
]

TEAMS = [
    # site code, team name, level
    ("lille", "Experts N2", 2),
    ("nantes-partenaire", "Accueil N1", 1),
    ("paris-opera", "Conseil en agence", 1),
]

# family code, FR, EN, then motifs (code, FR, EN, SLA hours, share of contacts)
MOTIFS = [
    ("commande", "Commande", "Order", [
        ("suivi_commande", "Suivi de commande", "Order tracking", 24, 0.24),
        ("modification_commande", "Modification de commande", "Order change", 12, 0.06),
        ("aide_achat", "Aide à l'achat", "Help before buying", 8, 0.10),
    ]),
    ("livraison", "Livraison", "Delivery", [
        ("livraison_retard", "Retard de livraison", "Late delivery", 24, 0.14),
        ("livraison_colis_abime", "Colis abîmé", "Damaged parcel", 48, 0.05),
    ]),
    ("apres_vente", "Après-vente", "After-sales", [
        ("retour_produit", "Retour produit", "Product return", 48, 0.10),
        ("remboursement", "Remboursement", "Refund", 48, 0.12),
        ("reclamation", "Réclamation", "Complaint", 72, 0.07),
    ]),
    ("compte", "Compte client", "Customer account", [
        ("compte_client", "Compte client", "Customer account", 24, 0.08),
        ("donnees_personnelles", "Données personnelles (RGPD)", "Personal data (GDPR)", 240, 0.04),
    ]),
]

# Motifs the outsourced level 1 may handle alone; the others are escalated to Lille more often.
LEVEL1_MOTIFS = {"suivi_commande", "aide_achat", "livraison_retard", "compte_client", "modification_commande"}

# code, FR, EN, channel, level, target kind, target %, target seconds
QUEUES = [
    ("tel_n1", "Téléphone N1", "Phone L1", "voice", 1, "service_level", 80, 20),
    ("tel_n2", "Téléphone N2 experts", "Phone L2 experts", "voice", 2, "service_level", 80, 30),
    ("rappel", "Rappels", "Callbacks", "callback", 1, "service_level", 90, 300),
    ("chat_n1", "Chat N1", "Chat L1", "chat", 1, "service_level", 85, 30),
    ("email_n1", "E-mail et formulaires N1", "Email and forms L1", "email", 1, "reply_delay", 90, 4 * 3600),
    ("email_n2", "E-mail N2", "Email L2", "email", 2, "reply_delay", 90, 24 * 3600),
    ("messagerie", "SMS, WhatsApp et réseaux sociaux", "SMS, WhatsApp and social", "sms", 1, "reply_delay", 90, 3600),
    ("courrier", "Courrier", "Letters", "letter", 2, "reply_delay", 95, 5 * 86400),
    ("agence", "Accueil agence", "Agency desk", "visit", 1, "service_level", 80, 600),
]

# Routing rules per queue (see docs/routing.md): the partner in Nantes answers level 1 first; Lille's
# experts take over after a wait; written work is ordered by SLA; level-2 e-mail and letters are pulled.
QUEUE_ROUTING = {
    "tel_n1": {"skills": {"voice": 3}, "sites": ["nantes-partenaire"], "callback_offer_after_seconds": 180,
               "overflow": [{"after_seconds": 30, "min_skill_level": 1},
                            {"after_seconds": 90, "add_sites": ["lille"]}]},
    "tel_n2": {"skills": {"voice": 1}, "sites": ["lille"], "default_handle_seconds": 420},
    "rappel": {"skills": {"voice": 1}, "sites": ["nantes-partenaire"],
               "overflow": [{"after_seconds": 300, "add_sites": ["lille"]}]},
    "chat_n1": {"skills": {"chat": 3}, "default_handle_seconds": 540,
                "overflow": [{"after_seconds": 60, "min_skill_level": 1}]},
    "email_n1": {"skills": {"email": 1}, "order_by": "sla", "default_handle_seconds": 420,
                 "overflow": [{"after_seconds": 4 * 3600, "add_sites": ["lille"]}], "sites": ["nantes-partenaire"]},
    "email_n2": {"skills": {"email": 1}, "sites": ["lille"], "order_by": "sla", "delivery": "pull"},
    "messagerie": {"skills": {"sms": 1}, "overflow": [{"after_seconds": 900, "any_skill": True}]},
    "courrier": {"skills": {"letter": 1}, "order_by": "sla", "delivery": "pull"},
    "agence": {"skills": {"visit": 1}, "sites": ["paris-opera"], "default_handle_seconds": 900},
}

# Share of contacts per channel, and which queue takes it at level 1 / level 2.
CHANNEL_MIX = [
    ("voice", 0.42, "tel_n1", "tel_n2"),
    ("email", 0.22, "email_n1", "email_n2"),
    ("chat", 0.12, "chat_n1", "chat_n1"),
    ("webform", 0.07, "email_n1", "email_n2"),
    ("callback", 0.04, "rappel", "rappel"),
    ("sms", 0.03, "messagerie", "messagerie"),
    ("whatsapp", 0.03, "messagerie", "messagerie"),
    ("social", 0.02, "messagerie", "messagerie"),
    ("letter", 0.02, "courrier", "courrier"),
    ("visit", 0.03, "agence", "agence"),
]

# username, display name, role, site, team, language, skills {code: level}
PEOPLE = [
    ("admin", "Administratrice Maison Lumière", "admin", "lille", None, "fr", {}),
    ("bob", "Bob Lefèvre", "supervisor", "lille", None, "fr", {}),
    ("sophie", "Sophie Garnier", "supervisor", "nantes-partenaire", None, "fr", {}),
    ("alice", "Alice Moreau", "agent", "lille", "Experts N2", "fr",
     {"voice": 5, "email": 5, "chat": 4, "lang_fr": 5, "lang_en": 4, "remboursement": 5, "reclamation": 5}),
    ("karim", "Karim Benali", "agent", "lille", "Experts N2", "fr",
     {"voice": 5, "email": 4, "letter": 5, "lang_fr": 5, "reclamation": 5, "donnees_personnelles": 5}),
    ("julie", "Julie Petit", "agent", "lille", "Experts N2", "fr",
     {"voice": 4, "email": 5, "social": 4, "lang_fr": 5, "lang_en": 5, "retour_produit": 5, "remboursement": 4}),
    ("thomas", "Thomas Roux", "agent", "lille", "Experts N2", "fr",
     {"voice": 4, "email": 4, "chat": 5, "lang_fr": 5, "livraison_colis_abime": 5, "livraison_retard": 4}),
    ("chloe", "Chloé Durand", "partner_agent", "nantes-partenaire", "Accueil N1", "fr",
     {"voice": 4, "chat": 4, "email": 3, "lang_fr": 5, "suivi_commande": 4, "aide_achat": 3}),
    ("mehdi", "Mehdi Haddad", "partner_agent", "nantes-partenaire", "Accueil N1", "fr",
     {"voice": 4, "sms": 4, "whatsapp": 4, "lang_fr": 5, "lang_en": 3, "suivi_commande": 4}),
    ("laura", "Laura Fontaine", "partner_agent", "nantes-partenaire", "Accueil N1", "fr",
     {"voice": 3, "chat": 5, "email": 4, "lang_fr": 5, "compte_client": 4, "livraison_retard": 3}),
    ("nicolas", "Nicolas Blanc", "partner_agent", "nantes-partenaire", "Accueil N1", "fr",
     {"voice": 4, "callback": 4, "lang_fr": 5, "suivi_commande": 3, "modification_commande": 3}),
    ("emma", "Emma Girard", "partner_agent", "nantes-partenaire", "Accueil N1", "fr",
     {"voice": 3, "email": 4, "webform": 4, "lang_fr": 5, "lang_en": 4, "aide_achat": 4}),
    ("lucas", "Lucas Mercier", "agent", "paris-opera", "Conseil en agence", "fr",
     {"visit": 5, "voice": 3, "lang_fr": 5, "lang_en": 4, "aide_achat": 5, "retour_produit": 4}),
    ("ines", "Inès Lambert", "agent", "paris-opera", "Conseil en agence", "fr",
     {"visit": 5, "lang_fr": 5, "aide_achat": 4, "retour_produit": 4}),
]

FIRST_NAMES = [
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Emma", "Louise", "Alice", "Nathalie",
    "Isabelle", "Sylvie", "Catherine", "Sandrine", "Hugo", "Lucas", "Thomas", "Nicolas", "Julien", "Maxime",
    "Antoine", "Pierre", "Philippe", "Michel", "Alain", "Patrick", "Karim", "Mohamed", "Yanis", "Paul",
]
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
    "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Nguyen",
]

OPENINGS = {
    "suivi_commande": ["Bonjour, je n'ai toujours pas reçu ma commande {order}.", "Où en est ma commande {order} ?"],
    "modification_commande": ["Je voudrais changer l'adresse de livraison de la commande {order}."],
    "aide_achat": ["Ce canapé existe-t-il en 3 places ?", "Quelle est la différence entre les deux lampes ?"],
    "livraison_retard": ["Ma livraison prévue hier n'est pas arrivée (commande {order}).",
                         "Le transporteur ne passe pas, commande {order}."],
    "livraison_colis_abime": ["Le colis de la commande {order} est arrivé abîmé, photos jointes."],
    "retour_produit": ["Je souhaite retourner un article de la commande {order}."],
    "remboursement": ["J'attends toujours le remboursement de mon retour (commande {order}).",
                      "Quand serai-je remboursé ?"],
    "reclamation": ["Troisième contact pour le même problème, je suis très mécontent (commande {order})."],
    "compte_client": ["Je n'arrive plus à me connecter à mon espace client.", "Mot de passe oublié."],
    "donnees_personnelles": ["Je demande la suppression de mes données personnelles."],
}

REPLIES = [
    "Bonjour, merci pour votre message. Je regarde votre dossier et reviens vers vous.",
    "Bonjour, votre colis a été remis au transporteur ; vous recevrez le suivi par e-mail.",
    "Bonjour, le remboursement a été déclenché ; comptez 3 à 5 jours ouvrés.",
    "Bonjour, je vous envoie l'étiquette de retour en pièce jointe.",
]

RESOLUTION_CODES = ["info_donnee", "geste_commercial", "remboursement_effectue", "renvoi_produit",
                    "retour_accepte", "acces_retabli", "transmis_transporteur"]

# Canned responses (code, title fr, title en, body fr, body en, motif or None).
# WhatsApp message templates as registered with Meta (name, language, body, approved): outside the 24-hour
# window only an approved one may be sent; the draft shows the refusal.
WHATSAPP_TEMPLATES = [
    ("suivi_dossier", "fr", "Bonjour {{1}}, nous avons du nouveau sur votre demande {{2}}. Répondez à ce message "
                            "pour en parler avec un conseiller.", True),
    ("suivi_dossier", "en", "Hello {{1}}, we have news about your request {{2}}. Reply to this message to talk "
                            "with an advisor.", True),
    ("relance_colis", "fr", "Bonjour {{1}}, avez-vous bien reçu votre colis ?", True),
    ("promotion_hiver", "fr", "Les soldes d'hiver commencent le {{1}} !", False),
]

CANNED_RESPONSES = [
    ("accuse_reception", "Accusé de réception", "Acknowledgement",
     "Bonjour {customer_name},\n\nNous avons bien reçu votre demande {case_reference} et nous en occupons.\n\n"
     "Bien cordialement,\n{agent_name} — Maison Lumière",
     "Hello {customer_name},\n\nWe have received your request {case_reference} and are looking into it.\n\n"
     "Kind regards,\n{agent_name} — Maison Lumière", None),
    ("suivi_colis", "Suivi de colis", "Parcel tracking",
     "Bonjour {customer_name},\n\nVotre colis a été remis au transporteur ; vous recevrez le lien de suivi par "
     "e-mail.\n\n{agent_name} — Maison Lumière",
     "Hello {customer_name},\n\nYour parcel is with the carrier; the tracking link will reach you by email.\n\n"
     "{agent_name} — Maison Lumière", "suivi_commande"),
    ("remboursement_lance", "Remboursement lancé", "Refund started",
     "Bonjour {customer_name},\n\nLe remboursement de votre commande est lancé le {today} ; comptez 5 à 7 jours "
     "ouvrés.\n\n{agent_name} — Maison Lumière",
     "Hello {customer_name},\n\nYour refund was started on {today}; allow 5 to 7 working days.\n\n"
     "{agent_name} — Maison Lumière", "remboursement"),
]

# The demo's mailboxes (issue 14's contract): where mail sent to the demo's SMTP listener goes.
MAILBOXES = [
    ("service@maison-lumiere.example", "Maison Lumière — Service client", None, "email_n1"),
    ("reclamations@maison-lumiere.example", "Maison Lumière — Réclamations", "reclamation", "email_n2"),
]

# The demo's contact form (/forms/contact): acknowledged and answered from the service mailbox.
FORMS = [("contact", "Nous contacter", "Contact us", "service@maison-lumiere.example", "email_n1",
          ["suivi_commande", "remboursement", "reclamation"])]
