"""accueil — open-source omnichannel customer-relationship centre (centre de relation client)."""

__version__ = "0.1.0"
