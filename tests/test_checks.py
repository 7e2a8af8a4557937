"""One rule for dates and timestamps (bakekit.checks): the areas' argument checks, the io
row checker, the FIFO walk and the export reader all read a value the same way."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from bakekit.checks import as_date, as_datetime, check_date, check_datetime
from bakekit.db.models.base import to_utc
from bakekit.errors import ValidationError
from bakekit.io._sync import Checker, Problems

TOKYO = dt.timezone(dt.timedelta(hours=9))

#: value -> (timestamp as stored, its date: the local day written in it)
CASES = [
    ("2025-12-02", dt.datetime(2025, 12, 2), dt.date(2025, 12, 2)),
    (" 2025-12-02 ", dt.datetime(2025, 12, 2), dt.date(2025, 12, 2)),
    ("2025-12-02T10:30:00", dt.datetime(2025, 12, 2, 10, 30), dt.date(2025, 12, 2)),
    ("2025-12-02T10:30:00Z", dt.datetime(2025, 12, 2, 10, 30), dt.date(2025, 12, 2)),
    ("2025-12-02T06:00+09:00", dt.datetime(2025, 12, 1, 21), dt.date(2025, 12, 2)),
    (dt.date(2025, 12, 2), dt.datetime(2025, 12, 2), dt.date(2025, 12, 2)),
    (dt.datetime(2025, 12, 2, 6, tzinfo=TOKYO), dt.datetime(2025, 12, 1, 21),
     dt.date(2025, 12, 2)),
    (dt.datetime(2025, 12, 2, 6), dt.datetime(2025, 12, 2, 6), dt.date(2025, 12, 2)),
    (pd.Timestamp("2025-12-02T06:00+09:00"), dt.datetime(2025, 12, 1, 21),
     dt.date(2025, 12, 2)),
]


@pytest.mark.parametrize(("value", "stamp", "day"), CASES)
def test_areas_and_io_read_a_value_the_same_way(value, stamp, day):
    assert as_datetime(value) == stamp and type(as_datetime(value)) is dt.datetime
    assert as_datetime(value).tzinfo is None  # stored naive UTC
    assert as_date(value) == day and type(as_date(value)) is dt.date
    assert check_datetime(value, "at") == stamp
    assert check_date(value, "on") == day
    row = Checker(Problems(), "purchases", 1)
    assert row.datetime({"at": value}, "at") == stamp
    assert row.date({"at": value}, "at") == day
    assert row.ok
    if isinstance(value, dt.datetime):  # the storage rule itself agrees
        assert to_utc(value.to_pydatetime() if isinstance(value, pd.Timestamp) else value) \
            == stamp


@pytest.mark.parametrize("value", ["soon", "2025-13-01", "", 20251202, 1.5, None, ["2025"]])
def test_a_value_that_is_not_a_date_is_refused_everywhere_naming_the_field(value):
    with pytest.raises(ValueError):
        as_datetime(value)
    with pytest.raises(ValueError):
        as_date(value)
    with pytest.raises(ValidationError, match="on: .* is not a date") as caught:
        check_date(value, "on")
    assert caught.value.field == "on"
    with pytest.raises(ValidationError, match="at: .* is not a date and time"):
        check_datetime(value, "at")
    row = Checker(Problems(), "purchases", 3)
    row.datetime({"at": value}, "at", required=True)
    assert not row.ok
    assert row.problems.rows[0]["field"] == "at" and row.problems.rows[0]["row"] == 3


def test_no_other_module_parses_dates_by_itself():
    """fromisoformat appears only in bakekit/checks.py (and plan/arguments.py, whose tagged
    JSON values round-trip as given rather than being stored)."""
    from pathlib import Path

    import bakekit

    root = Path(bakekit.__file__).parent
    found = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                   if "fromisoformat(" in p.read_text() and "migrations" not in p.parts
                   and p.name != "checks.py" and p.parts[-2:] not in {
                       ("models", "base.py"), ("plan", "arguments.py")})
    assert not found, f"parse dates through bakekit.checks instead: {found}"
