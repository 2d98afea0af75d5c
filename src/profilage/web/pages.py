"""HTML pages (French first, ``?lang=en`` for English)."""

from fastapi import APIRouter

router = APIRouter()
