"""Plans: ledger rows in comparable form, the stock summary, and the preview/replay diff."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Float, bindparam, cast, func, literal, select, union_all

from bakekit import frames
from bakekit.db import tables
from bakekit.db.reading import read_identity
from bakekit.frames import validate
from bakekit.plan.arguments import TOLERANCE
from bakekit.recording import WrittenMovement
from bakekit.stock.items import KINDS
from bakekit.stock.queries import has_stock, lots_with_items

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace
    from bakekit.recording import Operation as _Operation

# -- ledger rows in comparable form ---------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _ledger_statement() -> Any:
    """Ledger rows from a given id on, with their lot's item (built once)."""
    m, lots = tables.movements, tables.lots
    joined, slug = lots_with_items()
    return (select(m.c.id, m.c.lot_id, slug.label("item"), lots.c.kind, m.c.reason,
                   cast(m.c.quantity, Float).label("quantity"), lots.c.unit,
                   cast(m.c.cost, Float).label("cost"),
                   func.coalesce(lots.c.ingredient_id, lots.c.finished_unit_id,
                                 lots.c.finished_good_id).label("item_id"))
            .select_from(m.join(joined, lots.c.id == m.c.lot_id))
            .where(m.c.id >= bindparam("first")))


@functools.lru_cache(maxsize=1)
def _preview_statement() -> Any:
    """``_ledger_statement`` and, on each ledger row, what a preview must capture before
    its transaction rolls back: the stock on hand of the row's item in its lot's unit
    (``after``: lots with something left, as ``_stock_statement`` sums them; one scalar
    subquery per kind of item, each able to use that kind's FIFO index) and the database's
    identity (built once)."""
    lots, ident = tables.lots, tables.bakery_identity
    held = tables.lots.alias("held")
    per_kind = [select(cast(func.sum(held.c.remaining), Float))
                .where(held.c[column] == lots.c[column], held.c.unit == lots.c.unit,
                       has_stock(held)).scalar_subquery()
                for column in _ITEM_COLUMNS.values()]
    identity = select(ident.c.database_id).where(ident.c.id == 1).scalar_subquery()
    return _ledger_statement().add_columns(func.coalesce(*per_kind).label("after"),
                                           identity.label("database_id"))


def _wanted(steps: list[_Operation]) -> list[int]:
    return [i for op in steps for i in op.movement_ids]


def read_ledger_rows(ws: Workspace, steps: list[_Operation]) -> list[dict[str, Any]]:
    """The ledger rows each operation wrote (plain rows, one statement), with lots the plan
    itself created named by creation order (``new#1``...), others by id (``lot#12``)."""
    all_ids = _wanted(steps)
    if not all_ids:
        return []
    wanted = set(all_ids)
    moves = {r.id: r for r in ws.execute(_ledger_statement(), {"first": min(all_ids)})
             if r.id in wanted}
    return _comparable(steps, moves)


def preview_rows(ws: Workspace, steps: list[_Operation]
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
    """A what-if's ledger rows read back in one statement (as ``read_ledger_rows``), the
    stock on hand now of every item and unit they touch (as ``stock_after``) and the
    database's identity (None when ``bakery_identity`` has no row; without ledger rows
    that one is read alone)."""
    written = _read_back(ws, steps)
    after, here = captured_stock(steps, written)
    return (written_rows(steps, written), after,
            here if written else read_identity(ws.connection))


def recorded_ledger(ws: Workspace, steps: list[_Operation]) -> dict[int, WrittenMovement]:
    """The one source of a plan's ledger rows: each row its steps wrote, by id, as
    written. Those are the writers' own records (``Operation.written``, captured by
    ``plan.capture`` as the INSERT ran: no statement) when they describe every row
    (``written_known``); otherwise every row read back in one statement, into the same
    records (with the stock on hand now and the database's identity)."""
    if written_known(steps):
        return {i: w for op in steps for i, w in op.written.items()}
    return _read_back(ws, steps)


def _read_back(ws: Workspace, steps: list[_Operation]) -> dict[int, WrittenMovement]:
    all_ids = _wanted(steps)
    if not all_ids:
        return {}
    wanted = set(all_ids)
    return {int(r.id): WrittenMovement(int(r.lot_id), r.item, r.kind, int(r.item_id), r.unit,
                                       r.reason, r.quantity, r.cost, r.after,
                                       None if r.database_id is None else str(r.database_id))
            for r in ws.execute(_preview_statement(), {"first": min(all_ids)})
            if r.id in wanted}


def written_known(steps: list[_Operation]) -> bool:
    """Whether the writers' records describe every ledger row of these steps, so that
    they need not be read back: every step wrote ledger rows (one that wrote none may,
    say, rename an item the rows name) and its writers described every one of them, with
    a cost (a later step that prices an uncosted lot fills in its rows' cost)."""
    return bool(steps) and all(
        op.movement_ids and len(op.written) == len(op.movement_ids)
        and all(w.cost is not None for w in op.written.values()) for op in steps)


def written_rows(steps: list[_Operation], written: dict[int, WrittenMovement]
                 ) -> list[dict[str, Any]]:
    """The rows of ``read_ledger_rows`` from the rows as written (``recorded_ledger``)."""
    return _step_rows(steps, lambda _op, movement_id: written[movement_id])


def captured_stock(steps: list[_Operation], written: dict[int, WrittenMovement]
                   ) -> tuple[list[dict[str, Any]], str | None]:
    """From the rows as written (``recorded_ledger``), with no statement: the stock on
    hand of every item and unit they touch (as ``stock_after``; the last row written for
    each tells it, since every change of stock writes its ledger rows after it) and the
    database's identity (None without rows)."""
    after: dict[tuple[str, int, str], dict[str, Any]] = {}
    here = None
    for op in steps:
        for movement_id in op.movement_ids:
            w = written[movement_id]
            after[(w.kind, w.item_id, w.unit)] = {
                "kind": w.kind, "item_id": w.item_id, "unit": w.unit, "after": w.on_hand}
            here = w.database_id
    return list(after.values()), here


def _comparable(steps: list[_Operation], moves: dict[int, Any]) -> list[dict[str, Any]]:
    """The rows of ``read_ledger_rows`` from the fetched ledger rows, by id."""
    return _step_rows(steps, lambda _op, movement_id: moves[movement_id])


def _step_rows(steps: list[_Operation], row_of: Callable[[_Operation, int], Any]
               ) -> list[dict[str, Any]]:
    """One comparable row per ledger row of each step, in the order written; ``row_of``
    gives a ledger row's values (lot_id, item, kind, reason, quantity, unit, cost,
    item_id); lots the steps created are named by creation order (``new#1``)."""
    created: dict[int, str] = {}
    for op in steps:
        for lot_id in op.created_lot_ids:
            created[lot_id] = f"new#{len(created) + 1}"
    rows = []
    for step, op in enumerate(steps, start=1):
        for position, movement_id in enumerate(op.movement_ids, start=1):
            r = row_of(op, movement_id)
            rows.append({"step": step, "position": position,
                         "lot": created.get(int(r.lot_id), f"lot#{int(r.lot_id)}"),
                         "item": r.item, "kind": r.kind, "reason": r.reason,
                         "quantity": r.quantity, "unit": r.unit, "cost": r.cost,
                         "item_id": int(r.item_id)})
    return rows


#: the lots column naming each kind's item (the one kind map of bakekit.stock)
_ITEM_COLUMNS = {kind: k.column for kind, k in KINDS.items()}


@functools.lru_cache(maxsize=8)
def _stock_statement(kinds: tuple[str, ...]) -> Any:
    """On hand per item and unit for items of these kinds: one branch per kind, each able
    to use that kind's partial FIFO index (built once per set of kinds)."""
    lots = tables.lots
    branches = [
        select(literal(kind).label("kind"), lots.c[_ITEM_COLUMNS[kind]].label("item_id"),
               lots.c.unit, cast(func.sum(lots.c.remaining), Float).label("after"))
        .where(lots.c[_ITEM_COLUMNS[kind]].in_(bindparam(kind, expanding=True)),
               has_stock())
        .group_by(lots.c[_ITEM_COLUMNS[kind]], lots.c.unit)
        for kind in kinds
    ]
    return branches[0] if len(branches) == 1 else union_all(*branches)


def stock_after(ws: Workspace, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """On hand now (at the end of the preview) per touched item and unit: one statement."""
    if not changes:
        return []
    touched: dict[str, set[int]] = {}
    for c in changes:
        touched.setdefault(c["kind"], set()).add(c["item_id"])
    kinds = tuple(sorted(touched))
    result = ws.execute(_stock_statement(kinds), {k: sorted(touched[k]) for k in kinds})
    return [{"kind": r.kind, "item_id": int(r.item_id), "unit": r.unit, "after": r.after}
            for r in result]


def summary_rows(changes: list[dict[str, Any]],
                  after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per touched item and unit: before, change, after (as of the preview) and cost."""
    on_hand = {(a["kind"], a["item_id"], a["unit"]): a["after"] or 0.0 for a in after}
    grouped: dict[tuple[str, str, int, str], list[float]] = {}
    for c in changes:
        acc = grouped.setdefault((c["item"], c["kind"], c["item_id"], c["unit"]), [0.0, 0.0])
        acc[0] += c["quantity"]
        acc[1] += 0.0 if c["cost"] is None else c["cost"]
    rows = []
    for (item, kind, item_id, unit), (change, cost) in sorted(grouped.items()):
        now = on_hand.get((kind, item_id, unit), 0.0)
        rows.append({"item": item, "kind": kind, "unit": unit, "before": now - change,
                     "change": change, "after": now, "cost": cost})
    return rows



def same_rows(preview: list[dict[str, Any]], replay: list[dict[str, Any]]) -> bool:
    """Whether the replay wrote the previewed ledger rows (ids and timestamps aside)."""
    if len(preview) != len(replay):
        return False
    return all(
        (a["step"], a["position"], a["lot"], a["item"]) == (b["step"], b["position"],
                                                             b["lot"], b["item"])
        and abs(a["quantity"] - b["quantity"]) <= TOLERANCE and _same_cost(a["cost"], b["cost"])
        for a, b in zip(preview, replay, strict=True))


def in_words(value: float) -> str:
    """A quantity in words: at most 6 places, no trailing zeros."""
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def diff_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = list(frames.PLAN_DIFF.columns)
    return validate(pd.DataFrame(rows).reindex(columns=columns), frames.PLAN_DIFF)


def ledger_diff(preview: pd.DataFrame, replay: pd.DataFrame) -> pd.DataFrame:
    """Ledger rows that differ between preview and replay, paired by step, item and lot
    (and, where one step writes the same lot of an item twice, by their order there):
    ``changed`` (quantity or cost differs), ``missing`` (previewed, not written now) or
    ``extra`` (written now, not previewed)."""
    keys = ["step", "item", "lot", "occurrence"]
    sides = [frame.assign(occurrence=frame.groupby(["step", "item", "lot"]).cumcount())
             for frame in (preview, replay)]
    merged = sides[0].merge(sides[1], on=keys, how="outer", suffixes=("_preview", "_now"),
                            indicator=True, sort=False)
    rows = []
    for r in merged.to_dict("records"):
        unit = r["unit_preview"] if isinstance(r["unit_preview"], str) else r["unit_now"]
        where = f"{r['item']} {r['lot']}, step {r['step']}"
        if r["_merge"] == "left_only":
            status, position = "missing", r["position_preview"]
            message = (f"{where}: {in_words(r['quantity_preview'])} {unit} previewed, "
                       "not written now")
        elif r["_merge"] == "right_only":
            status, position = "extra", r["position_now"]
            message = (f"{where}: {in_words(r['quantity_now'])} {unit} written now, "
                       "not in the preview")
        else:
            if (abs(r["quantity_preview"] - r["quantity_now"]) <= TOLERANCE
                    and _same_cost(r["cost_preview"], r["cost_now"])):
                continue
            status, position = "changed", r["position_preview"]
            message = (f"{where}: {in_words(r['quantity_preview'])} {unit} previewed, "
                       f"{in_words(r['quantity_now'])} {unit} now")
        rows.append({
            "step": r["step"], "position": position, "status": status, "item": r["item"],
            "lot": r["lot"], "unit": unit,
            "quantity_preview": r.get("quantity_preview"), "quantity_now": r.get("quantity_now"),
            "cost_preview": r.get("cost_preview"), "cost_now": r.get("cost_now"),
            "message": message,
        })
    rows.sort(key=lambda d: (d["step"], d["position"], d["status"]))
    return diff_frame(rows)


def _same_cost(a: Any, b: Any) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    if pd.isna(a) or pd.isna(b):
        return False
    return abs(float(a) - float(b)) <= TOLERANCE
