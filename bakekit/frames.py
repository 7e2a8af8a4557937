"""The schema of every DataFrame the API returns, and the functions that build frames to them.

Column order here is the order callers see; dtypes are coerced (ids Int64, money and
quantities float64, dates datetime64[ns], text str), so an empty result still has every
column with its dtype. A cost or value that depends on an uncosted lot is ``pd.NA`` in a
``MONEY`` (nullable Float64) column, never 0.0.

Each schema's pandera ``DataFrameSchema`` is ``schema.pandera``, built on first use: importing
pandera takes longer than everything else a `bakekit levels` adds to pandas and SQLAlchemy
(issue 32), so ``validate`` and ``build`` use pandas alone (pandera's own coercion for these
dtypes is ``astype``: tests/test_frame_reads.py checks both give the same frames).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bakekit.units import COST_PLACES, QUANTITY_PLACES

if TYPE_CHECKING:
    import pandera.pandas as pa
    from pandera.errors import SchemaError

ID = "Int64"
TEXT = "str"
FLOAT = "float64"
#: money that may be unknown (a cost or value depending on an uncosted lot): pandas'
#: nullable float, missing as ``pd.NA``, never 0.0 and never a NaN that looks like a number
MONEY = "Float64"
DATE = "datetime64[ns]"
BOOL = "bool"


#: float columns that hold money: shown rounded to the places money is kept to
MONEY_COLUMNS = frozenset({
    "cost", "value", "unit_cost", "total_cost", "per_unit_cost", "price", "estimated_cost",
    "cost_preview", "cost_now", "package_price", "price_per_unit", "cost_from_stock",
    "cost_to_buy", "package_cost", "uncosted_value",
})


def _places(column: str) -> int:
    """The decimal places a float column is shown to: money to ``COST_PLACES``, every other
    number (quantities, ratios) to ``QUANTITY_PLACES``; so a value computed in binary
    floating point (0.1 + 0.2, a SQLite REAL sum) shows as the decimal it stands for."""
    return COST_PLACES if column in MONEY_COLUMNS else QUANTITY_PLACES


@dataclass(frozen=True, eq=False)
class FrameSchema:
    """A frame's name, its columns in order with their dtypes, and the columns that must
    hold a value; ``pandera`` is the same schema as a pandera ``DataFrameSchema``.

    >>> LEVELS.columns["on_hand"], "value" in LEVELS.required
    ('float64', False)
    >>> LEVELS.validate(ws.inventory.levels()).shape[1] >= len(LEVELS.columns)
    True
    """

    name: str
    columns: Mapping[str, str]
    required: frozenset[str]

    @functools.cached_property
    def pandera(self) -> pa.DataFrameSchema:
        """The pandera schema: every column coerced to its dtype, the required ones not
        null, other columns allowed (built, and pandera imported, on first use)."""
        import pandera.pandas as pa

        return pa.DataFrameSchema(
            {col: pa.Column(dtype, nullable=col not in self.required, coerce=True)
             for col, dtype in self.columns.items()},
            name=self.name, strict=False, ordered=False)

    def validate(self, frame: pd.DataFrame) -> pd.DataFrame:
        """pandera's own validation of ``frame`` against this schema (``self.pandera``): a
        check of a frame from elsewhere, or of a read, in a test say."""
        return self.pandera.validate(frame)


def schema(name: str, columns: dict[str, str], *,
           required: tuple[str, ...] = ()) -> FrameSchema:
    """A frame schema: every column coerced to its dtype; ``required`` columns not null."""
    unknown = sorted(set(required) - set(columns))
    if unknown:
        raise ValueError(f"frame {name}: required columns {unknown} are not among its columns")
    return FrameSchema(name, dict(columns), frozenset(required))


def extend(base: FrameSchema, name: str, columns: dict[str, str]) -> FrameSchema:
    """A schema with ``base``'s columns (same dtypes, same required ones) and more after them.

    >>> list(extend(STOCK, "production_stock", {"unit": TEXT}).columns)
    ['item', 'on_hand', 'unit_cost', 'unit']
    """
    return FrameSchema(name, {**base.columns, **columns}, base.required)


def _schema_error(frame_schema: FrameSchema, data: Any, message: str,
                 column: str) -> SchemaError:
    """pandera's ``SchemaError`` for a frame that does not fit its schema, the message
    naming the frame and the column (pandera is imported only on this path)."""
    from pandera.errors import SchemaError

    return SchemaError(frame_schema.pandera, data, f"frame {frame_schema.name}: {message}",
                       column_name=column)


def validate(frame: pd.DataFrame, frame_schema: FrameSchema) -> pd.DataFrame:
    """Coerce and validate a frame; schema columns first, in schema order, then any others."""
    columns = list(frame_schema.columns)
    if frame.empty:
        extra = [c for c in frame.columns if c not in frame_schema.columns]
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns + extra})
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AssertionError(f"frame {frame_schema.name}: missing columns {missing}")
    for col, dtype in frame_schema.columns.items():
        if dtype == TEXT and not isinstance(frame[col].dtype, pd.StringDtype):
            # missing text is NA, never the string "None" (a string dtype has no "None")
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    ordered = frame[columns + [c for c in frame.columns if c not in frame_schema.columns]]
    return _coerce_and_check(ordered.reset_index(drop=True), frame_schema)


def build(rows: Sequence[Mapping[str, Any]], frame_schema: FrameSchema) -> pd.DataFrame:
    """A frame of the schema's columns, built straight in their dtypes from plain rows (the
    fast road for small frames made by the library itself; equal to ``validate`` of the
    same rows). Keys of the rows beyond the schema's columns are left out."""
    return pd.DataFrame(columns(rows, frame_schema), index=pd.RangeIndex(len(rows)),
                        copy=False)


def columns(rows: Sequence[Mapping[str, Any]], frame_schema: FrameSchema) -> dict[str, Any]:
    """The schema's columns of plain rows, each an array already in its dtype (what
    ``build`` makes its frame of; for a caller that adds columns of its own before making
    one frame). A required column with a missing value is a SchemaError.

    >>> columns([{"row": 0, "status": "new"}], RECONCILIATION)["row"]
    <IntegerArray>
    [0]
    Length: 1, dtype: Int64
    """
    data: dict[str, Any] = {}
    for col, dtype in frame_schema.columns.items():
        values = [r.get(col) for r in rows]
        if dtype == FLOAT:
            data[col] = np.round(np.array([np.nan if v is None else float(v)  # type: ignore[arg-type]
                                           for v in values], dtype="float64"), _places(col))
        elif dtype == MONEY:
            data[col] = pd.array([None if v is None or v is pd.NA else float(v)  # type: ignore[arg-type]
                                  for v in values], dtype=MONEY).round(_places(col))
        elif dtype == DATE:
            data[col] = np.array([np.datetime64("NaT") if v is None else np.datetime64(v)  # type: ignore[call-overload]
                                  for v in values], dtype=DATE)
        elif dtype == ID:
            data[col] = _ids(values)
        elif dtype == BOOL:
            data[col] = np.array(values, dtype=bool)
        else:
            data[col] = pd.array(values, dtype=_text_dtype())
        if col in frame_schema.required and any(v is None for v in values):
            raise _schema_error(frame_schema, pd.DataFrame(rows),
                               f"required column {col!r} has missing values", col)
    return data


def _ids(values: list[Any]) -> Any:
    """An Int64 array of ids: plain ints (and None) straight from a NumPy array and its
    mask, anything else through ``pd.array``."""
    if all(type(v) is int or v is None for v in values):
        try:
            return pd.arrays.IntegerArray(
                np.array([0 if v is None else v for v in values], dtype=np.int64),
                np.array([v is None for v in values], dtype=bool))
        except OverflowError:
            pass
    return pd.array(values, dtype="Int64")


@functools.lru_cache(maxsize=1)
def _text_dtype() -> object:
    """The dtype pandas gives text (``"str"``: python- or pyarrow-backed, NaN for missing)."""
    return pd.Series([], dtype=TEXT).dtype


def _coerce_and_check(frame: pd.DataFrame, frame_schema: FrameSchema) -> pd.DataFrame:
    """What ``frame_schema.pandera.validate`` does (every column coerced to its dtype,
    required columns not null, other columns allowed) with pandas alone: for these dtypes
    pandera's coercion is ``astype``, and pandera's per-call machinery cost milliseconds per
    small frame."""
    for position, (col, dtype) in enumerate(frame_schema.columns.items()):
        try:
            series = frame.iloc[:, position].astype(dtype)
        except (TypeError, ValueError, OverflowError) as exc:
            raise _schema_error(frame_schema, frame, f"column {col!r} cannot be coerced to "
                               f"{dtype}: {exc}", col) from exc
        if col in frame_schema.required and series.isna().any():
            raise _schema_error(frame_schema, frame,
                               f"required column {col!r} has missing values", col)
        if dtype in (FLOAT, MONEY):
            series = series.round(_places(col))
        frame.isetitem(position, series)
    return frame


CONSUMED = schema("consumed", {
    "lot_id": ID, "purchased_on": DATE, "quantity": FLOAT, "unit": TEXT,
    "unit_cost": MONEY, "cost": MONEY, "requested_quantity": FLOAT,
}, required=("lot_id", "quantity", "unit"))

AVAILABILITY = schema("availability", {
    "item": TEXT, "needed": FLOAT, "available": FLOAT, "shortfall": FLOAT, "unit": TEXT,
    "kind": TEXT, "note": TEXT,
}, required=("item", "needed", "available", "shortfall", "unit"))

INGREDIENTS = schema("ingredients", {
    "ingredient_id": ID, "item": TEXT, "name": TEXT, "category": TEXT, "parent": TEXT,
    "density": TEXT, "g_per_ml": FLOAT, "is_packaging": BOOL, "display_unit": TEXT,
    "notes": TEXT,
}, required=("ingredient_id", "item", "name", "is_packaging"))

PRODUCTS = schema("products", {
    "product_id": ID, "item": TEXT, "ingredient": TEXT, "brand": TEXT, "name": TEXT,
    "package_quantity": FLOAT, "package_unit": TEXT, "supplier": TEXT, "preferred": BOOL,
    "price": FLOAT, "price_on": DATE, "upc": TEXT, "notes": TEXT,
}, required=("product_id", "item", "ingredient", "package_quantity", "package_unit"))

SUPPLIERS = schema("suppliers", {
    "supplier_id": ID, "item": TEXT, "city": TEXT, "state": TEXT, "website": TEXT,
    "notes": TEXT,
}, required=("supplier_id", "item"))

LOTS = schema("lots", {
    "lot_id": ID, "item": TEXT, "kind": TEXT, "product": TEXT, "purchased_on": DATE,
    "quantity": FLOAT, "remaining": FLOAT, "unit": TEXT, "unit_cost": MONEY,
    "value": MONEY, "location": TEXT, "run_id": ID,
}, required=("lot_id", "item", "kind", "quantity", "remaining", "unit"))

LEVELS = schema("levels", {
    "item": TEXT, "kind": TEXT, "on_hand": FLOAT, "unit": TEXT, "value": MONEY,
    "on_hand_base": FLOAT, "base_unit": TEXT, "lots": ID, "uncosted_quantity": FLOAT,
    "uncosted_lots": ID,
}, required=("item", "kind", "on_hand", "unit", "lots"))

MOVEMENTS = schema("movements", {
    "movement_id": ID, "lot_id": ID, "item": TEXT, "kind": TEXT, "reason": TEXT,
    "quantity": FLOAT, "unit": TEXT, "cost": MONEY, "run_id": ID, "posted_on": DATE,
    "created_at": DATE,
}, required=("movement_id", "lot_id", "item", "reason", "quantity", "unit", "posted_on"))

VALUATION = schema("valuation", {
    "item": TEXT, "kind": TEXT, "on_hand": FLOAT, "unit": TEXT, "value": MONEY,
    "uncosted_quantity": FLOAT, "share": MONEY, "uncosted_lots": ID, "note": TEXT,
}, required=("item", "kind"))

AUDIT = schema("audit", {
    "lot_id": ID, "item": TEXT, "problem": TEXT, "recorded": FLOAT, "ledger": FLOAT,
    "difference": FLOAT,
}, required=("lot_id", "problem"))

# -- recipes and production ---------------------------------------------------------
RUN_CONSUMED = schema("run_consumed", {
    "item": TEXT, "lot_id": ID, "purchased_on": DATE, "quantity": FLOAT, "unit": TEXT,
    "unit_cost": MONEY, "cost": MONEY,
}, required=("item", "lot_id", "quantity", "unit"))

HISTORY = schema("history", {
    "run_id": ID, "item": TEXT, "quantity": FLOAT, "total_cost": MONEY,
    "per_unit_cost": MONEY, "event": TEXT, "reversed": BOOL,
}, required=("run_id", "item", "quantity", "reversed"))

STOCK = schema("stock", {
    "item": TEXT, "on_hand": FLOAT, "unit_cost": MONEY,
}, required=("item", "on_hand"))

INGREDIENTS_FOR = schema("ingredients_for", {
    "item": TEXT, "quantity": FLOAT, "unit": TEXT,
}, required=("item", "quantity", "unit"))

# -- events ---------------------------------------------------------------------------
REQUIREMENTS = schema("requirements", {
    "level": TEXT, "item": TEXT, "quantity": FLOAT, "unit": TEXT,
}, required=("level", "item", "quantity"))

PROGRESS = schema("progress", {
    "item": TEXT, "target": FLOAT, "done": FLOAT, "remaining": FLOAT,
}, required=("item", "target", "done", "remaining"))

SHOPPING_LIST = schema("shopping_list", {
    "item": TEXT, "needed": FLOAT, "on_hand": FLOAT, "shortfall": FLOAT, "unit": TEXT,
    "product": TEXT, "packages": ID, "estimated_cost": FLOAT, "package_quantity": FLOAT,
    "package_unit": TEXT, "price": FLOAT, "left_over": FLOAT, "note": TEXT,
}, required=("item", "needed", "on_hand", "shortfall", "unit"))

# -- import, export, reconciliation ---------------------------------------------------
IMPORT_REPORT = schema("import_report", {
    "entity": TEXT, "read": ID, "created": ID, "updated": ID, "unchanged": ID, "skipped": ID,
}, required=("entity", "read", "created", "updated", "unchanged", "skipped"))

RECONCILIATION = schema("reconciliation", {
    "row": ID, "status": TEXT, "message": TEXT,
}, required=("row", "status"))

IMPORT_ERRORS = schema("import_errors", {
    "row": ID, "entity": TEXT, "field": TEXT, "value": TEXT, "reason": TEXT,
}, required=("reason",))

# -- schemas of the areas' other reads and of plans -----------------------------------------
PLAN_OPERATIONS = schema("plan_operations", {
    "step": ID, "area": TEXT, "method": TEXT, "arguments": TEXT, "ledger_rows": ID,
}, required=("step", "area", "method"))

PLAN_CHANGES = schema("plan_changes", {
    "step": ID, "position": ID, "lot": TEXT, "item": TEXT, "kind": TEXT, "reason": TEXT,
    "quantity": FLOAT, "unit": TEXT, "cost": FLOAT,
}, required=("step", "position", "lot", "item", "quantity"))

PLAN_SUMMARY = schema("plan_summary", {
    "item": TEXT, "kind": TEXT, "unit": TEXT, "before": FLOAT, "change": FLOAT, "after": FLOAT,
    "cost": FLOAT,
}, required=("item", "unit", "before", "change", "after"))

PLAN_DIFF = schema("plan_diff", {
    "step": ID, "position": ID, "status": TEXT, "item": TEXT, "lot": TEXT, "unit": TEXT,
    "quantity_preview": FLOAT, "quantity_now": FLOAT, "cost_preview": FLOAT, "cost_now": FLOAT,
    "message": TEXT,
}, required=("status",))

RESTORED = schema("restored", {
    "lot_id": ID, "item": TEXT, "kind": TEXT, "quantity": FLOAT, "unit": TEXT,
    "cost": MONEY,
}, required=("lot_id", "item", "quantity", "unit"))

RECIPES = schema("recipes", {
    "recipe_id": ID, "item": TEXT, "name": TEXT, "category": TEXT,
    "ingredients": ID, "components": ID, "finished_units": TEXT,
    "notes": TEXT,
}, required=("recipe_id", "item", "name", "ingredients", "components"))

RECIPE_INGREDIENTS = extend(INGREDIENTS_FOR, "ingredients_for", {
    "quantity_base": FLOAT, "base_unit": TEXT,
})

RECIPE_COST = schema("recipe_cost", {
    "item": TEXT, "quantity": FLOAT, "unit": TEXT, "cost": MONEY,
    "costed_quantity": FLOAT, "note": TEXT,
}, required=("item", "quantity", "unit"))

EVENTS = schema("events", {
    "event_id": ID, "event": TEXT, "item": TEXT, "date": DATE, "notes": TEXT,
    "recipients": ID, "packages": FLOAT,
}, required=("event_id", "item", "date"))

RECIPIENTS = schema("recipients", {
    "recipient_id": ID, "item": TEXT, "household": TEXT, "address": TEXT,
    "notes": TEXT,
}, required=("recipient_id", "item"))

PACKAGES = schema("packages", {
    "package": TEXT, "name": TEXT, "finished_good": TEXT, "quantity": FLOAT,
}, required=("package", "name"))

ASSIGNMENTS = schema("assignments", {
    "assignment_id": ID, "event": TEXT, "recipient": TEXT, "household": TEXT,
    "package": TEXT, "quantity": FLOAT, "status": TEXT, "notes": TEXT,
}, required=("assignment_id", "event", "recipient", "package", "quantity", "status"))

FINISHED_GOOD_COMPONENTS = schema("finished_good_components", {
    "finished_good": TEXT, "kind": TEXT, "item": TEXT, "quantity": FLOAT,
    "unit": TEXT, "position": ID,
}, required=("finished_good", "kind", "item", "quantity", "unit"))

PRODUCTION_HISTORY = extend(HISTORY, "production_history", {
    "recipe": TEXT, "batches": FLOAT, "expected_quantity": FLOAT,
    "loss": FLOAT, "produced_at": DATE, "notes": TEXT,
})

PRODUCTION_STOCK = extend(STOCK, "production_stock", {
    "unit": TEXT, "value": MONEY, "lots": ID,
})

# -- analyst reads (ws.reports) ---------------------------------------------------------------
PRICE_HISTORY = schema("price_history", {
    "item": TEXT, "product": TEXT, "supplier": TEXT, "purchased_on": DATE,
    "package_price": FLOAT, "package_quantity": FLOAT, "package_unit": TEXT,
    "price_per_unit": FLOAT, "unit": TEXT, "packages": FLOAT,
}, required=("item", "product", "purchased_on", "package_price", "package_quantity",
             "package_unit", "price_per_unit", "unit"))

USAGE = schema("usage", {
    "period": DATE, "item": TEXT, "reason": TEXT, "quantity": FLOAT, "unit": TEXT,
    "cost": MONEY, "kind": TEXT,
}, required=("period", "item", "reason", "quantity", "unit"))

AGING = schema("aging", {
    "lot_id": ID, "item": TEXT, "purchased_on": DATE, "age_days": ID, "bucket": TEXT,
    "remaining": FLOAT, "unit": TEXT, "value": MONEY, "kind": TEXT, "unit_cost": MONEY,
}, required=("lot_id", "item", "purchased_on", "age_days", "bucket", "remaining", "unit"))

EVENT_COST = schema("event_cost", {
    "package": TEXT, "recipients": ID, "quantity": FLOAT, "cost_from_stock": MONEY,
    "cost_to_buy": MONEY, "total_cost": MONEY, "note": TEXT,
}, required=("package", "recipients", "quantity"))
