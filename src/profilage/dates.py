"""The one range of months every entry point accepts: dossiers (CLI and API), generated
populations, the store's monthly runs and retention dates.

Birth dates and CAF history are drawn back from the reference month, and the date arithmetic
(ages, months since an event) must stay inside what Python's dates hold; 1990-01..2100-12 covers
every model in use (CNAF data mining since 2010) and any reasonable projection.
"""

from __future__ import annotations

import datetime as dt

from profilage.errors import ProfilageError

FIRST_MONTH = dt.date(1990, 1, 1)
LAST_MONTH = dt.date(2100, 12, 1)
RANGE_TEXT = "1990-01..2100-12"


def in_range(d: dt.date) -> bool:
    return FIRST_MONTH <= d.replace(day=1) <= LAST_MONTH


def check_month(d: dt.date, field: str) -> dt.date:
    """``d`` if its month is within the range; a one-line error naming ``field`` otherwise."""
    if not in_range(d):
        raise ProfilageError(f"{d.year:04d}-{d.month:02d} is outside {RANGE_TEXT}", field=field)
    return d
