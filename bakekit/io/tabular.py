"""Tables a user gives to reconcile or import: reading a CSV, JSON or Excel source, its
columns, its rows as plain records, and the review frame made from them."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from bakekit import frames
from bakekit.errors import ValidationError

#: inputs at least this long show a progress bar
PROGRESS_MIN_ROWS = 2000


def read_source(source: Any) -> pd.DataFrame:
    """A DataFrame from a DataFrame, or a CSV, JSON or Excel path (all columns as given).

    A file pandas cannot read as a table (broken CSV, empty file, bytes that are not
    UTF-8, JSON that is not a list of records) is a ValidationError naming the path.

    >>> read_source(pd.DataFrame({"item": ["flour"]}))["item"].tolist()
    ['flour']
    """
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True).copy()
    path = Path(source)
    suffix = path.suffix.lower()
    if not path.exists():
        raise ValidationError(f"source: {str(path)!r} does not exist", field="source",
                              value=str(path))
    readers = {".csv": ("CSV", lambda: pd.read_csv(path, dtype=object, keep_default_na=True)),
               ".json": ("JSON", lambda: pd.read_json(path, dtype=False)),
               ".xlsx": ("Excel", lambda: pd.read_excel(path, dtype=object)),
               ".xlsm": ("Excel", lambda: pd.read_excel(path, dtype=object)),
               ".xls": ("Excel", lambda: pd.read_excel(path, dtype=object))}
    if suffix not in readers:
        raise ValidationError(f"source: {str(path)!r} is not .csv, .json or .xlsx",
                              field="source", value=str(path))
    what, read = readers[suffix]
    try:
        frame = read()
    except pd.errors.EmptyDataError as exc:
        raise ValidationError(f"source: {str(path)!r} is empty (no header, no rows)",
                              field="source", value=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise ValidationError(f"source: {str(path)!r} is not UTF-8 text ({exc.reason} at byte "
                              f"{exc.start})", field="source", value=str(path)) from exc
    except (ValueError, TypeError, OSError, zipfile.BadZipFile, RecursionError) as exc:
        # pandas' ParserError is a ValueError, as is JSON that is not a table
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ValidationError(f"source: {str(path)!r} cannot be read as a {what} table: "
                              f"{reason}", field="source", value=str(path)) from exc
    if not isinstance(frame, pd.DataFrame):  # pragma: no cover  (read_json typ="frame")
        raise ValidationError(f"source: {str(path)!r} is not a table", field="source",
                              value=str(path))
    return frame


def require_columns(data: pd.DataFrame, kind: str,
                    required: dict[str, tuple[str, ...]]) -> None:
    """Refuse a source that lacks a required column; ``required`` maps each to the column
    names accepted for it (the first is its own name).

    >>> require_columns(pd.DataFrame(columns=["item", "quantity", "unit"]), "inventory_count",
    ...                 {"item": ("item",), "counted": ("counted", "quantity")})
    """
    have = {str(c) for c in data.columns}
    missing = []
    for names in required.values():
        if not have.intersection(names):
            missing.append(names[0] + (f" (or {', '.join(names[1:])})" if names[1:] else ""))
    if missing:
        found = ", ".join(str(c) for c in data.columns) or "no columns"
        raise ValidationError(f"{kind}: missing column(s) {'; '.join(missing)}; expected "
                              f"{', '.join(required)}; found {found}", field="columns",
                              value=[str(c) for c in data.columns])


def review_frame(rows: list[dict[str, Any]], columns: tuple[str, ...],
                 floats: tuple[str, ...] = ()) -> pd.DataFrame:
    """The review frame of a reconciliation (schema ``frames.RECONCILIATION``): every column
    of its kind even when there are no rows (or a column no row has: None; a row without a
    column some rows have: NaN, as pandas reads records), missing values None in every
    text column, the ``floats`` columns as floats. Built straight from the rows: the
    schema's columns by ``frames.build`` (already in their dtypes), the others as plain
    arrays, one DataFrame made once (no per-column Series aligned, no second pass to
    validate).

    >>> from decimal import Decimal
    >>> frame = review_frame([{"row": 0, "status": "new", "message": "new purchase",
    ...                        "packages": Decimal(2)}], ("row", "status", "message",
    ...                                                   "packages", "notes"),
    ...                      floats=("packages",))
    >>> frame.values.tolist()
    [[0, 'new', 'new purchase', 2.0, None]]
    """
    n = len(rows)
    index = pd.RangeIndex(n)
    data: dict[str, Any] = frames.columns(rows, frames.RECONCILIATION)
    given = list(dict.fromkeys(itertools.chain.from_iterable(rows)))
    for col in given + [c for c in columns if c not in given]:
        if col in data:
            continue
        missing = math.nan if col in given else None
        values = [r.get(col, missing) for r in rows]
        plain = _plain(values, col in floats) if n else (np.empty(0, dtype=object), True)
        array, text = plain if plain is not None else (_inferred(values, col in floats), True)
        # a Series keeps an object array of text object (a DataFrame infers text from a
        # bare one; other arrays it takes as they are); every column on the one index, so
        # none is aligned
        data[col] = pd.Series(array, index=index, dtype=array.dtype, copy=False) if text \
            else array
    return pd.DataFrame(data, index=index, copy=False)


#: the types of values a review column holds that need no inference
_NONE, _DATE = type(None), dt.date


def _plain(values: list[Any], as_float: bool) -> tuple[Any, bool] | None:
    """The array of a review column of plain values, as ``_inferred`` would make it, found
    from the values' types alone, and whether it holds text: text (and None) as objects,
    ints as int64, dates and None as objects, all None as objects, numbers (and None) of a
    float column as float64 (NaN for None); None for anything else (``_inferred`` reads
    it)."""
    kinds = set(map(type, values))
    if as_float:
        if _NONE in kinds:
            if len(kinds) == 1:
                return None
            kinds.discard(_NONE)
        if kinds <= {Decimal, float, int}:
            return np.array([math.nan if v is None else float(v) for v in values],
                            dtype=np.float64), False
        return None
    if kinds <= {str, _NONE} or kinds <= {_DATE, _NONE}:
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array, str in kinds
    if kinds == {int}:
        try:
            return np.array(values, dtype=np.int64), False
        except OverflowError:
            return None
    return None


def _inferred(values: list[Any], as_float: bool) -> Any:
    """The array of a review column as pandas reads records: text columns as objects with
    None for missing values, other columns in the dtype pandas infers (missing values None
    in object columns); a float column's values as floats."""
    array: Any
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        array = np.empty(len(values), dtype=object)
        array[:] = [v if isinstance(v, str) else None for v in values]
    else:
        series = pd.Series(values)
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            array = series.to_numpy(dtype=object, copy=True)
            array[pd.isna(array)] = None
        else:
            array = series.array
    if as_float:
        array = pd.Series(array, dtype=array.dtype, copy=False).map(
            lambda v: None if v is None else float(v)).array
    return array


def _given(value: Any) -> Any:
    """A review cell's value, or None where it is empty (None, NaN, NA)."""
    if value is None or type(value) in _NEVER_EMPTY:
        return value
    return None if pd.isna(value) else value


#: the types of cell value that are never empty (a review's own rows hold these)
_NEVER_EMPTY = frozenset({str, int, Decimal, dt.date, bool})


def _records(frame: pd.DataFrame, columns: tuple[str, ...] | None = None
             ) -> list[dict[str, Any]]:
    """A frame's rows as dicts of plain Python values (of ``columns`` only, those the
    frame has, when given), every missing value (NaN, NaT, pd.NA) None: read column by
    column (``tolist``), missing values looked for only where a dtype can hold them.

    >>> _records(pd.DataFrame({"a": [1.5, float("nan")], "b": ["x", None], "c": [1, 2],
    ...                        "d": pd.array([3, None], dtype="Int64")}))
    [{'a': 1.5, 'b': 'x', 'c': 1, 'd': 3}, {'a': None, 'b': None, 'c': 2, 'd': None}]
    """
    pairs = [(name, frame.iloc[:, i]) for i, name in enumerate(frame.columns)] \
        if columns is None else [(name, frame[name]) for name in columns if name in frame]
    names, values = [name for name, _ in pairs], []
    for _, series in pairs:
        column = series.tolist()
        if isinstance(series.dtype, np.dtype):  # numpy's ints and bools hold none
            missing = None if series.dtype.kind in "iub" else pd.isna(series.to_numpy())
        else:  # an extension array (nullable Int64, text): pd.NA
            missing = series.isna().to_numpy()
        if missing is not None and missing.any():
            for i in np.flatnonzero(missing).tolist():
                column[i] = None
        values.append(column)
    if not names:
        return [{} for _ in range(len(frame))]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).strip().lower(): c for c in frame.columns}
    for n in names:
        if n in lower:
            return str(lower[n])
    return None


def _bar(rows: list, what: str) -> Any:
    """A progress bar over long inputs only, never forced on: ``disable=None`` shows none
    where stderr is not a terminal (CI, benchmarks), and TQDM_DISABLE set (read here, at
    each call: tqdm itself reads it once, at import, and an explicit argument beats it)
    turns it off everywhere."""
    if len(rows) < PROGRESS_MIN_ROWS:
        return rows
    flag = os.environ.get("TQDM_DISABLE", "").strip().lower()
    return tqdm(rows, desc=what, leave=False,
                disable=None if flag in ("", "0", "false", "no") else True)
