"""Argument checks every area and io share: keys, text, positive quantities, and the one rule
for dates and timestamps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bakekit.db.models.base import to_utc
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
    return _storable(value, field)


def check_text(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field}: {value!r} must be text", field=field, value=value)
    return _storable(value, field)


def _storable(value: str, field: str) -> str:
    """Text every backend stores as given: no NUL character (PostgreSQL refuses it), no lone
    surrogate (not Unicode text)."""
    if value.isascii() and "\x00" not in value:
        return value
    shown = value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    if "\x00" in value:
        raise ValidationError(f"{field}: {shown[:60]!r} contains a NUL character",
                              field=field, value=shown)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"{field}: {shown[:60]!r} is not valid text (a lone "
                              "surrogate)", field=field, value=shown) from None
    return value


# -- dates and timestamps: the one rule -----------------------------------------------------
# A timestamp is stored naive UTC (``db.models.base.to_utc``): an aware value is converted to
# UTC, a naive one is taken as UTC, so times from any zone compare in real time. A date is a
# calendar day; given a timestamp, it is THE LOCAL DAY WRITTEN IN IT: a timestamp with an
# offset is filed under its own local date ("2025-12-01T01:00+09:00" is 1 December), a naive
# one as given. Text is ISO 8601 ("2025-12-02", "2025-12-02T06:00+09:00", a trailing "Z" for
# UTC). Areas (check_date/check_datetime), io (``io._sync.Checker``), runs, the FIFO walk
# and the export reader all go through as_date/as_datetime; ``today`` is the day of a write
# made without one.
def as_datetime(value: object) -> dt.datetime:
    """A timestamp as stored (naive UTC) from a ``datetime`` (or pandas Timestamp), a
    ``date`` (its midnight) or ISO 8601 text; ValueError for anything else.

    >>> as_datetime("2025-12-02T06:00+09:00")
    datetime.datetime(2025, 12, 1, 21, 0)
    >>> as_datetime(dt.date(2025, 12, 2))
    datetime.datetime(2025, 12, 2, 0, 0)
    """
    try:
        if isinstance(value, dt.datetime):
            to_pydatetime = getattr(value, "to_pydatetime", None)  # a pandas Timestamp
            return to_utc(to_pydatetime() if to_pydatetime is not None else value)
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            return to_utc(dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00: before year 1 in UTC
        raise ValueError(f"{value!r} is out of range in UTC (years 1 to 9999)") from None
    raise ValueError(f"{value!r} is not a date and time")


def as_date(value: object) -> dt.date:
    """A calendar day from a ``date``, a ``datetime`` or ISO 8601 text (a date, or a
    timestamp): a timestamp gives the local day written in it (its own offset's date; a
    naive one as given), never another zone's; ValueError for anything else.

    >>> as_date("2025-12-02")
    datetime.date(2025, 12, 2)
    >>> as_date("2025-12-02T06:00+09:00"), as_date("2025-11-30T23:30-08:00")
    (datetime.date(2025, 12, 2), datetime.date(2025, 11, 30))
    """
    if type(value) is dt.date:  # the common case first: the FIFO walk reads many
        return value
    if isinstance(value, dt.datetime):
        return dt.date(value.year, value.month, value.day)  # its own (local) day
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return as_date(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    raise ValueError(f"{value!r} is not a date")


def check_date(value: object, field: str) -> dt.date:
    """A date argument by the one rule (``as_date``), or a ValidationError naming the field.

    >>> check_date("2025-12-02", "on")
    datetime.date(2025, 12, 2)
    """
    try:
        return as_date(value)
    except ValueError:
        raise ValidationError(f"{field}: {value!r} is not a date (use YYYY-MM-DD)",
                              field=field, value=value) from None


def today() -> dt.date:
    """The business date of a write made without one: today's date in UTC, the same clock
    as the default time of production and assembly runs, so a run made now and a
    consumption made now fall on one day."""
    return dt.datetime.now(dt.UTC).date()


def check_datetime(value: object, field: str) -> dt.datetime:
    """A timestamp argument by the one rule (``as_datetime``: stored naive UTC), or a
    ValidationError naming the field.

    >>> check_datetime("2025-12-02T10:00Z", "produced_at")
    datetime.datetime(2025, 12, 2, 10, 0)
    """
    try:
        return as_datetime(value)
    except ValueError:
        raise ValidationError(f"{field}: {value!r} is not a date and time (ISO 8601)",
                              field=field, value=value) from None


def positive(value: object, field: str) -> Decimal:
    """A quantity above zero, exactly (``units.to_decimal``).

    >>> positive("2.5", "batches")
    Decimal('2.5')
    """
    return to_decimal(value, field, positive=True)
