"""ASGI entry point for uvicorn or any ASGI server: ``accueil.asgi:app``."""

from accueil.app import create_app

app = create_app()
