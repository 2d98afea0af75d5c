"""The web layer: JSON API, French/English pages (simulator, comparison, models, audit), the
self-contained report and the static simulator. ``create_app()`` builds the FastAPI app."""

from profilage.web.app import create_app

__all__ = ["create_app"]
