"""The production area: batches of a recipe become a finished-unit lot, costed FIFO; reversal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pandas as pd
from sqlalchemy import Float, case, cast, func, null, select

from bakekit import frames, stock
from bakekit.areas._common import lookup_row
from bakekit.areas._runs import RunRequest, availability, record_run, reverse_run
from bakekit.areas.expansion import ExpandedUnit, expand_rows, expand_unit
from bakekit.checks import check_datetime, check_text, positive
from bakekit.db import tables
from bakekit.db.exact import number
from bakekit.db.models.base import utcnow
from bakekit.errors import NotFoundError, ValidationError
from bakekit.operations import Area, read_operation, write_operation
from bakekit.results import Availability, ProductionResult, Reversal
from bakekit.units import each_per, plain, q


def _needs(rows: list[dict[str, Any]]) -> list[tuple[stock.Item, Decimal, str]]:
    """(item, quantity, unit) needs from ``expand_rows``."""
    return [(stock.Item("ingredient", int(r["ingredient_id"]), str(r["item"]), r["g_per_ml"]),
             Decimal(r["quantity"]), str(r["unit"])) for r in rows]


def _short_message(what: str, availability: Availability,
                   short: Sequence[stock.Allocation]) -> str:
    """Why ``what`` cannot be made: each short ingredient (need, have, short)."""
    frame = availability.frame[availability.frame["shortfall"] > 0]
    if frame.empty and short:  # e.g. one ingredient in two units that don't convert
        a = short[0]
        return (f"not enough stock for {what}: {a.item.slug} short {float(a.shortfall):g} "
                f"{a.unit}")
    parts = [f"{r.item} (need {r.needed:g} {r.unit}, have {r.available:g}, short "
             f"{r.shortfall:g}{'; ' + r.note if isinstance(r.note, str) and r.note else ''})"
             for r in frame.itertuples()]
    return f"not enough stock for {what}: " + "; ".join(parts)


def _snapshot(unit_row: Any, amount: Decimal, expected: Decimal,
              expanded: list[dict[str, Any]]) -> str:
    """The run's recipe as made (JSON): so history survives later edits of the recipe."""
    return json.dumps({
        "recipe": unit_row.recipe_slug, "finished_unit": unit_row.slug,
        "items_per_batch": plain(Decimal(unit_row.items_per_batch)),
        "item_unit": unit_row.item_unit,
        "batches": str(amount), "expected_quantity": str(expected),
        "ingredients": [{"item": str(e["item"]), "quantity": plain(Decimal(e["quantity"])),
                         "unit": str(e["unit"])} for e in expanded],
    })


class Production(Area):
    """Production runs: check stock, record a run (FIFO, one unit of work), reverse it.

    >>> with bakery.session() as ws:
    ...     if ws.production.check("sugar-cookie", batches=2).ok:
    ...         made = ws.production.record("sugar-cookie", batches=2, actual_yield=46)
    ...     ws.commit()
    >>> made.quantity
    46.0
    """

    area_name = "production"

    def _finished_unit(self, finished_unit: str) -> Any:
        """The finished unit's row."""
        return lookup_row(self._ws, "finished_units", "slug", finished_unit, "finished unit")

    def _expanded_unit(self, finished_unit: str, amount: Decimal
                       ) -> tuple[ExpandedUnit, list[dict[str, Any]]]:
        """The finished unit's row (with its recipe's slug) and ``amount`` batches of its
        recipe expanded, in one statement."""
        if not isinstance(finished_unit, str):
            raise ValidationError(f"finished unit: {finished_unit!r} must be a slug (text)",
                                  field="finished unit", value=finished_unit)
        unit_row, expanded = expand_unit(self._ws, finished_unit, amount)
        if unit_row is None:
            raise NotFoundError("finished unit", finished_unit)
        return unit_row, expanded

    # -- reads ------------------------------------------------------------------------------
    @read_operation
    def check(self, finished_unit: str, *, batches: Any) -> Availability:
        """Whether stock covers ``batches`` of the finished unit's recipe (nested expanded):
        needed, available and shortfall per ingredient.

        >>> ws.production.check("sugar-cookie", batches=2).ok
        True
        """
        amount = positive(batches, "batches")
        row = self._finished_unit(finished_unit)
        needs = expand_rows(self._ws, {int(row.recipe_id): amount})
        return availability(self._ws, _needs(needs))

    @read_operation
    def history(self) -> pd.DataFrame:
        """Production runs, oldest first: recipe, batches, expected and actual yield, loss,
        total and per-unit cost, event, and whether the run was reversed.

        >>> ws.production.history()[["run_id", "item", "quantity", "loss"]]
           run_id                   item  quantity  loss
        0       1  chocolate-chip-cookie      34.0   2.0
        """
        runs, fu, r, ev = (tables.runs, tables.finished_units, tables.recipes,
                           tables.events)
        stmt = (
            select(runs.c.id.label("run_id"), fu.c.slug.label("item"),
                   cast(runs.c.quantity, Float).label("quantity"),
                   cast(runs.c.total_cost, Float).label("total_cost"),
                   cast(runs.c.per_unit_cost, Float).label("per_unit_cost"),
                   ev.c.name.label("event"),
                   case((runs.c.reversed_at.is_(None), False), else_=True).label("reversed"),
                   r.c.slug.label("recipe"), cast(runs.c.batches, Float).label("batches"),
                   cast(runs.c.expected_quantity, Float).label("expected_quantity"),
                   cast(runs.c.loss, Float).label("loss"), runs.c.produced_at, runs.c.notes)
            .select_from(runs.join(fu, fu.c.id == runs.c.finished_unit_id)
                         .outerjoin(r, r.c.id == runs.c.recipe_id)
                         .outerjoin(ev, ev.c.id == runs.c.event_id))
            .where(runs.c.kind == "production")
            .order_by(runs.c.produced_at, runs.c.id)
        )
        frame = self._ws.frame(stmt)
        if not frame.empty:
            frame["reversed"] = frame["reversed"].astype(bool)
        return frames.validate(frame, frames.PRODUCTION_HISTORY)

    @read_operation
    def stock(self) -> pd.DataFrame:
        """Finished units on hand, with their weighted unit cost.

        >>> ws.production.stock()[["item", "on_hand", "unit", "lots"]]
                            item  on_hand  unit  lots
        0  chocolate-chip-cookie     34.0  each     1
        """
        lots, fu = tables.lots, tables.finished_units
        # unknown (NULL) when any lot has no price, never the value of the priced ones
        value = case((func.count(lots.c.unit_cost) < func.count(), null()),
                     else_=func.sum(number(lots.c.remaining) * number(lots.c.unit_cost)))
        stmt = (
            select(fu.c.slug.label("item"), func.sum(lots.c.remaining).label("on_hand"),
                   value.label("value"),
                   func.sum(case((lots.c.unit_cost.isnot(None), lots.c.remaining), else_=0))
                   .label("costed"),
                   func.count(lots.c.id).label("lots"), func.min(lots.c.unit).label("unit"))
            .select_from(lots.join(fu, fu.c.id == lots.c.finished_unit_id))
            .where(lots.c.kind == "finished_unit", stock.has_stock())
            .group_by(fu.c.slug)
            .order_by(fu.c.slug)
        )
        rows = []
        for row in self._ws.execute(stmt):
            costed = Decimal(str(row.costed or 0))
            value_d = None if row.value is None else Decimal(str(row.value))
            rows.append({
                "item": row.item, "on_hand": float(row.on_hand),
                "unit_cost": None if not costed or value_d is None else float(value_d / costed),
                "unit": row.unit, "value": None if value_d is None else float(value_d),
                "lots": int(row.lots)})
        return frames.validate(pd.DataFrame(rows), frames.PRODUCTION_STOCK)

    # -- writes -----------------------------------------------------------------------------
    @write_operation
    def record(self, finished_unit: str, *, batches: Any, actual_yield: Any = None,
               event: str | None = None, produced_at: Any = None,
               notes: str | None = None) -> ProductionResult:
        """Make ``batches`` of a finished unit's recipe: consume every ingredient of the
        expanded recipe FIFO, create a finished-unit lot at total cost / actual yield.

        ``actual_yield`` defaults to batches x items per batch; the difference is the loss,
        reported in items (the good units carry the whole cost). Not enough stock raises
        InsufficientStockError (with the Availability) and writes nothing.

        >>> made = ws.production.record("sugar-cookie", batches=2, actual_yield=46)
        >>> made.quantity, made.per_unit_cost > 0
        (46.0, True)
        """
        ws = self._ws
        amount = positive(batches, "batches")
        unit_row, expanded = self._expanded_unit(finished_unit, amount)
        # items are counted one by one: a yield declared in dozens is twelve items a dozen
        per_item = each_per(unit_row.item_unit)
        expected = q(Fraction(amount * Decimal(unit_row.items_per_batch)) * per_item)
        made = expected if actual_yield is None else q(
            Fraction(positive(actual_yield, "actual_yield")) * per_item)
        when = utcnow() if produced_at is None else check_datetime(produced_at, "produced_at")
        check_text(notes, "notes")
        event_id = None
        if event is not None:
            event_id = int(lookup_row(ws, "events", "name", event, "event").id)
        what = f"{amount:g} batch(es) of {finished_unit!r}"
        done = record_run(ws, RunRequest(
            kind="production", output=stock.item_of_row("finished_unit", unit_row),
            quantity=made, produced_at=when, given_at=produced_at,
            # lots are locked (PostgreSQL FOR UPDATE) ingredient by ingredient in a stable
            # order, by ingredient id, whatever the recipe's order: two runs never wait on
            # each other
            needs=sorted(_needs(expanded), key=lambda need: need[0].id),
            short_message=lambda found, short: _short_message(what, found, short),
            columns={"recipe_id": int(unit_row.recipe_id), "batches": amount,
                     "expected_quantity": expected, "loss": expected - made,
                     "event_id": event_id, "notes": notes, "imported": False,
                     "snapshot": _snapshot(unit_row, amount, expected, expanded)}))
        return ProductionResult(
            run_id=done.run_id, item=str(unit_row.slug), batches=float(amount),
            expected_quantity=float(expected), quantity=float(made),
            loss=float(expected - made),
            total_cost=None if done.total_cost is None else float(done.total_cost),
            per_unit_cost=None if done.per_unit_cost is None else float(done.per_unit_cost),
            lot_id=done.lot_id, consumed=done.consumed, known_cost=float(done.known_cost),
            uncosted_quantity=0.0 if done.total_cost is not None else float(made))

    @write_operation
    def reverse(self, run_id: int, *, on: Any = None) -> Reversal:
        """Undo a production run whose finished units are untouched: every consumed lot is
        restored exactly, the finished-unit lot goes to zero, "reversal" rows go in the
        ledger, dated ``on`` (default today), and the run is marked reversed (history is
        never deleted).

        >>> ws.production.reverse(1).item
        'chocolate-chip-cookie'
        """
        return reverse_run(self._ws, run_id, kind="production", on=on)

