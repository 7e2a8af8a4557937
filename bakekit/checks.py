"""Argument checks every area and io share: keys, text, positive quantities, and the one rule
for dates and timestamps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bakekit.errors import ValidationError
from bakekit.units import to_decimal

MAX_KEY_LENGTH = 200


def check_key(value: object, field: str) -> str:
    """A slug or name: a non-empty string of at most 200 characters, stored as given."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field}: {value!r} must be a non-empty string", field=field,
                              value=value)
    if len(value) > MAX_KEY_LENGTH:
        raise ValidationError(f"{field}: {value[:40]!r}... is longer than {MAX_KEY_LENGTH}",
                              field=field, value=value)
    return value


def check_text(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field}: {value!r} must be text", field=field, value=value)
    return value


def check_date(value: object, field: str) -> dt.date:
    """A date from a ``date``, a ``datetime`` (its UTC date, by ``to_utc``) or an ISO string
    (YYYY-MM-DD)."""
    from bakekit.db.models.base import to_utc

    if isinstance(value, dt.datetime):
        return to_utc(value).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(f"{field}: {value!r} is not a date (use YYYY-MM-DD)", field=field,
                          value=value)


def today() -> dt.date:
    """The business date of a write made without one: today's date in UTC, the same clock
    as the default time of production and assembly runs, so a run made now and a
    consumption made now fall on one day."""
    return dt.datetime.now(dt.UTC).date()


def check_datetime(value: object, field: str) -> dt.datetime:
    """A timestamp as stored: naive UTC (``to_utc``: an aware value is converted to UTC, a
    naive one is taken as UTC), from a ``datetime``, a ``date`` or an ISO 8601 string."""
    from bakekit.db.models.base import to_utc

    if isinstance(value, dt.datetime):
        return to_utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return to_utc(dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            pass
    raise ValidationError(f"{field}: {value!r} is not a date and time (ISO 8601)",
                          field=field, value=value)


def positive(value: object, field: str) -> Decimal:
    return to_decimal(value, field, positive=True)
