"""Imports every model so ``Base.metadata`` is complete (Alembic, tests, create_all)."""

from accueil.channels.callback import models as callback_models  # noqa: F401
from accueil.channels.chat import models as chat_models  # noqa: F401
from accueil.channels.email import models as email_models  # noqa: F401
from accueil.channels.letter import models as letter_models  # noqa: F401
from accueil.channels.messaging import models as messaging_models  # noqa: F401
from accueil.channels.outbound import models as outbound_models  # noqa: F401
from accueil.channels.visit import models as visit_models  # noqa: F401
from accueil.channels.voice import models as voice_models  # noqa: F401
from accueil.channels.whatsapp import models as whatsapp_models  # noqa: F401
from accueil.conversations import models as conversations_models  # noqa: F401
from accueil.customers import models as customers_models  # noqa: F401
from accueil.db import idempotency, jobs  # noqa: F401
from accueil.db.base import Base
from accueil.identity import models as identity_models  # noqa: F401
from accueil.knowledge import models as knowledge_models  # noqa: F401
from accueil.routing import models as routing_models  # noqa: F401

metadata = Base.metadata
