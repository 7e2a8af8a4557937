"""The inventory area: purchases become lots, FIFO consumption, stock-takes, and stock reads."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Float,
    String,
    case,
    cast,
    func,
    insert,
    literal,
    null,
    select,
    union_all,
    update,
)

from bakekit import costing, frames, stock
from bakekit.areas._common import lookup_row
from bakekit.areas._runs import refuse_takes_before
from bakekit.checks import as_date, check_date, check_key, check_text, today
from bakekit.db import tables
from bakekit.db.dialect import for_update
from bakekit.errors import InsufficientStockError, NotFoundError, ValidationError
from bakekit.operations import Area, read_operation, write_operation
from bakekit.results import Adjustment, Consumption, LatePrice, Receipt
from bakekit.stock.queries import held, lots_as_of, lots_with_items, movements_frame
from bakekit.units import base_unit, factor, is_none, money, normalize_unit, q, to_decimal

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

#: tolerance of the ledger audit: quantities and costs are kept to 6 and 10 places
AUDIT_TOLERANCE = 1e-6


#: the lot's item, one id column per kind of item (exactly one is set)
_ITEM_ID_COLUMNS = (tables.lots.c.ingredient_id, tables.lots.c.finished_unit_id,
                    tables.lots.c.finished_good_id)


def _name_items_and_products(ws: Workspace, frame: pd.DataFrame) -> pd.DataFrame:
    """Replace a lots frame's item and product id columns by the slugs ``item`` and
    ``product``, from one statement over the four small tables (not a join per lot)."""
    i, fu, fg, p = (tables.ingredients, tables.finished_units, tables.finished_goods,
                    tables.products)
    names = union_all(*(select(literal(t.name).label("source"), t.c.id, t.c.slug)
                        for t in (i, fu, fg, p)))
    by_table: dict[str, dict[int, str]] = {t.name: {} for t in (i, fu, fg, p)}
    for row in ws.execute(names):
        by_table[row.source][int(row.id)] = row.slug
    item: pd.Series | None = None
    for column, t in zip([c.name for c in _ITEM_ID_COLUMNS], (i, fu, fg), strict=True):
        if frame[column].notna().any():
            named = frame[column].map(by_table[t.name])
            item = named if item is None else item.fillna(named)
    product = frame["product_id"].map(by_table[p.name])
    for column in [*(c.name for c in _ITEM_ID_COLUMNS), "product_id"]:
        del frame[column]  # in place: a million-row frame is not copied
    frame.insert(1, "item", pd.Series(index=frame.index, dtype="str") if item is None
                 else item.astype("str"))
    frame.insert(3, "product", product.astype("str"))
    return frame


def _sort_in_place(frame: pd.DataFrame) -> None:
    """Put a lots frame in FIFO order per item: by item, date, lot id (slugs sort alike
    here and in SQL: UTF-8 bytes sort as code points). Column by column, so a million-row
    frame never exists twice (peak memory: the frame and one column)."""
    codes, _ = pd.factorize(frame["item"], sort=True)
    order = np.lexsort((frame["lot_id"].to_numpy(dtype="int64", na_value=0),
                        frame["purchased_on"].to_numpy(dtype="int64"), codes))
    if (order[1:] > order[:-1]).all():
        return  # already in order (e.g. one item's lots, oldest first)
    for column in frame.columns:
        frame[column] = frame[column].array.take(order)


class Inventory(Area):
    """Lots and the ledger: purchase, consume (FIFO), adjust; lots, levels, movements.

    >>> with bakery.session() as ws:
    ...     receipt = ws.inventory.purchase("ka-flour-5lb", packages=2, unit_cost=18.00,
    ...                                     purchased_on="2025-11-01")
    ...     used = ws.inventory.consume("flour-ap", 3, "cup", reason="test bake")
    ...     ws.commit()
    >>> receipt.quantity, receipt.unit, used.shortfall
    (10.0, 'lb', 0.0)
    """

    area_name = "inventory"

    # -- writes -----------------------------------------------------------------------------
    @write_operation
    def purchase(self, product: str, *, packages: float | int | str = 1,
                 unit_cost: float | str | None, purchased_on: Any,
                 supplier: str | None = None, location: str | None = None,
                 notes: str | None = None) -> Receipt:
        """Buy ``packages`` of a product at ``unit_cost`` per package: one new lot.

        The lot is in the product's package unit; its cost per unit is the package price
        divided by the package size (a 5 lb bag at 18.00 is a lot of 5 lb at 3.60).
        ``unit_cost=None`` records an uncosted lot (price unknown).

        >>> ws.inventory.purchase("ka-flour-5lb", packages=2, unit_cost=18.00,
        ...                       purchased_on="2025-11-01").total_cost
        36.0
        """
        ws = self._ws
        row = lookup_row(ws, "products", "slug", product, "product")
        count = to_decimal(packages, "packages", positive=True)
        price = None if unit_cost is None else to_decimal(unit_cost, "unit_cost",
                                                           non_negative=True)
        on = check_date(purchased_on, "purchased_on")
        check_text(location, "location")
        check_text(notes, "notes")
        supplier_id = row.supplier_id
        if supplier is not None:
            supplier_id = lookup_row(ws, "suppliers", "name", supplier, "supplier").id
        ingredient = ws.execute(select(tables.ingredients).where(
            tables.ingredients.c.id == row.ingredient_id)).one()
        package_quantity = Decimal(row.package_quantity)
        purchases = tables.purchases
        from bakekit.db.models.base import new_uuid, utcnow

        purchase_id = ws.execute(insert(purchases).returning(purchases.c.id), {
            "uuid": new_uuid(), "product_id": row.id, "supplier_id": supplier_id,
            "purchased_on": on, "packages": count, "unit_cost": price, "location": location,
            "notes": notes, "created_at": utcnow(),
        }).scalar_one()
        quantity = q(count * package_quantity)
        lot_cost = None if price is None else money(price / package_quantity)
        total = None if price is None else money(count * price)
        item = stock.Item("ingredient", int(ingredient.id), str(ingredient.slug),
                         None if ingredient.g_per_ml is None else Decimal(ingredient.g_per_ml))
        lot_id = stock.new_lot(ws, item, quantity=quantity, unit=row.package_unit,
                              unit_cost=lot_cost, acquired_on=on, reason="purchase",
                              product_id=row.id, purchase_id=purchase_id, location=location,
                              ledger_cost=total)
        if price is not None and (row.price_on is None or as_date(row.price_on) <= on):
            products = tables.products
            ws.execute(update(products).where(products.c.id == row.id)
                       .values(price=price, price_on=on))
        return Receipt(
            lot_id=lot_id, purchase_id=int(purchase_id), item=item.slug, product=product,
            quantity=float(quantity), unit=normalize_unit(row.package_unit),
            package_cost=None if price is None else float(price),
            unit_cost=None if lot_cost is None else float(lot_cost),
            total_cost=None if total is None else float(total),
        )

    def _plan(self, item: str, quantity: Any, unit: str, *, lock: bool) -> stock.Allocation:
        amount = to_decimal(quantity, "quantity", positive=True)
        unit = normalize_unit(unit)
        resolved = stock.resolve_any(self._ws, item)
        return stock.take(self._ws, resolved, amount, unit, lock=lock)

    @write_operation
    def consume(self, ingredient: str, quantity: float | str, unit: str, *,
                reason: str, on: Any = None) -> Consumption:
        """Take stock oldest lot first, converting units through the ingredient's density.

        ``on`` is the business date of the consumption (default: today); the ledger rows
        carry it as ``posted_on``. A lot acquired after ``on`` cannot be taken: that is a
        ValidationError naming the lot.

        Raises InsufficientStockError (carrying the Consumption breakdown) and writes
        nothing if the lots don't cover the request.

        >>> used = ws.inventory.consume("flour-ap", 2, "cup", reason="test bake",
        ...                             on="2025-12-02")
        >>> used.consumed[["lot_id", "quantity", "unit"]]
           lot_id  quantity unit
        0       1   0.53125   lb
        """
        check_key(reason, "reason")
        day = today() if on is None else check_date(on, "on")
        plan = self._plan(ingredient, quantity, unit, lock=True)
        if plan.shortfall > 0:
            raise InsufficientStockError(
                f"not enough {plan.item.slug}: need {float(plan.requested):g} {plan.unit}, "
                f"short {float(plan.shortfall):g} {plan.unit}", plan.to_availability(),
                consumption=plan.to_consumption())
        refuse_takes_before([plan], day, field="on", value=on, what="a consumption")
        stock.write_take(self._ws, plan, reason=reason, posted_on=day)
        return plan.to_consumption()

    @read_operation
    def preview_consume(self, ingredient: str, quantity: float | str, unit: str) -> Consumption:
        """What ``consume`` would take, without writing (same engine, same snapshot)."""
        return self._plan(ingredient, quantity, unit, lock=False).to_consumption()

    @write_operation
    def adjust(self, lot_id: int, quantity: float | str, unit: str, *,
               reason: str, on: Any = None) -> Adjustment:
        """Stock-take: set a lot to the counted quantity; the difference goes in the ledger,
        dated ``on`` (the day of the count; default today, not before the lot's date).

        >>> counted = ws.inventory.adjust(1, 1.5, "lb", reason="count 2025-12-01")
        >>> counted.item, counted.after, counted.unit
        ('flour-ap', 1.5, 'lb')
        """
        ws = self._ws
        check_key(reason, "reason")
        if isinstance(lot_id, bool) or not isinstance(lot_id, int):
            raise ValidationError(f"lot_id: {lot_id!r} must be an integer lot id",
                                  field="lot_id", value=lot_id)
        counted = to_decimal(quantity, "quantity", non_negative=True)
        day = today() if on is None else check_date(on, "on")
        lots = tables.lots
        lot = ws.execute(for_update(select(lots).where(lots.c.id == lot_id),
                                    ws.connection)).first()
        if lot is None:
            raise NotFoundError("lot", lot_id)
        item = stock.lot_item(ws, lot)
        counted_in_lot = q(counted * factor(unit, lot.unit, g_per_ml=item.g_per_ml,
                                            item=item.slug))
        if is_none(counted_in_lot):  # the boundary rule: a count below the resolution is none
            counted_in_lot = Decimal(0)
        before = Decimal(lot.remaining)
        diff = counted_in_lot - before
        unit_cost = None if lot.unit_cost is None else Decimal(lot.unit_cost)
        cost = None if unit_cost is None else money(diff * unit_cost)
        acquired = as_date(lot.acquired_on)
        if acquired > day:
            raise ValidationError(
                f"on: {day.isoformat()} is before lot {lot_id} was acquired "
                f"({acquired.isoformat()}); a count cannot be dated before its lot",
                field="on", value=on)
        if cost is not None and counted_in_lot == 0 and diff != 0:
            # counted empty: the lot's whole remaining value leaves, so it holds none
            m = tables.movements
            held = ws.scalar(select(func.sum(m.c.cost)).where(m.c.lot_id == lot_id))
            cost = -money(Decimal(str(held or 0)))
        if diff != 0:
            stock.set_remaining(ws, {lot_id: counted_in_lot})
            stock.ledger(ws, [(lot_id, diff, cost)], reason=reason, posted_on=day)
        return Adjustment(lot_id=lot_id, item=item.slug, before=float(before),
                          after=float(counted_in_lot), difference=float(diff),
                          unit=normalize_unit(lot.unit),
                          cost=None if cost is None else float(cost))

    @write_operation
    def set_price(self, purchase_id: int, unit_cost: float | str, *, on: Any = None
                  ) -> LatePrice:
        """Give a purchase recorded without a price its late price (one package's), which
        flows as a priced purchases view's does: its lots get their cost per lot unit, and
        what was made from them (ledger rows, runs, finished lots, valuations as of past
        dates) is re-valued (``costing.price_purchases``). ``on`` is the day the price
        is from (default: the purchase's date): the product's current price takes it unless
        it has a newer one. A purchase that has another price already is refused.

        >>> bought = ws.inventory.purchase("eggs-24", unit_cost=None,
        ...                                purchased_on="2025-12-01")
        >>> late = ws.inventory.set_price(bought.purchase_id, 7.79)
        >>> late.package_cost, late.lots
        (7.79, 1)
        """
        ws = self._ws
        if isinstance(purchase_id, bool) or not isinstance(purchase_id, int):
            raise ValidationError(f"purchase_id: {purchase_id!r} must be an integer purchase "
                                  "id", field="purchase_id", value=purchase_id)
        price = to_decimal(unit_cost, "unit_cost", non_negative=True)
        pur, p = tables.purchases, tables.products
        row = ws.execute(for_update(
            select(pur.c.unit_cost, pur.c.purchased_on, p.c.id, p.c.slug, p.c.price_on)
            .join(p, p.c.id == pur.c.product_id).where(pur.c.id == purchase_id),
            ws.connection, of=pur)).first()
        if row is None:
            raise NotFoundError("purchase", purchase_id)
        bought = as_date(row.purchased_on)
        day = bought if on is None else check_date(on, "on")
        if day < bought:
            raise ValidationError(f"on: {day.isoformat()} is before purchase {purchase_id} "
                                  f"({bought.isoformat()}); a price cannot predate it",
                                  field="on", value=on)
        result = LatePrice(purchase_id=purchase_id, product=str(row.slug),
                           package_cost=float(price), lots=0)
        if row.unit_cost is not None:
            if Decimal(row.unit_cost) == price:
                return result  # priced so already: nothing to do
            raise ValidationError(
                f"unit_cost: purchase {purchase_id} ({row.slug}, {bought.isoformat()}) has "
                f"price {Decimal(row.unit_cost)} already, not {unit_cost!r}; set_price gives "
                "a price to a purchase recorded without one", field="unit_cost",
                value=unit_cost)
        if row.price_on is None or as_date(row.price_on) <= day:
            ws.execute(update(p).where(p.c.id == row.id).values(price=price, price_on=day))
        lots = costing.price_purchases(ws, {purchase_id: price})
        return dataclasses.replace(result, lots=lots)

    # -- reads ------------------------------------------------------------------------------
    @read_operation
    def lots(self, ingredient: str | None = None, *, include_empty: bool = False,
             kind: str | None = None) -> pd.DataFrame:
        """Lots in FIFO order per item (oldest first); empty ones only if asked.

        >>> ws.inventory.lots("flour-ap")[["lot_id", "remaining", "unit"]]
           lot_id  remaining unit
        0       1   9.402344   lb
        1       2  25.000000   lb
        """
        lots = tables.lots
        # every column arrives as the driver gives it (dates as ISO text, numbers cast to
        # float in SQL): no per-row conversion in Python, one vectorized date parse below.
        # Items and products come as ids, named from one small map below: a million lots
        # then make ints, not a million slug strings; and no ORDER BY, the frame is sorted
        # below (a stable sort of the fetched frame costs a fraction of the database
        # sorting a join of every lot by a text key).
        stmt = select(lots.c.id.label("lot_id"), *_ITEM_ID_COLUMNS, lots.c.kind,
                      lots.c.product_id,
                      cast(lots.c.acquired_on, String).label("purchased_on"),
                      cast(lots.c.quantity, Float).label("quantity"),
                      cast(lots.c.remaining, Float).label("remaining"), lots.c.unit,
                      cast(lots.c.unit_cost, Float).label("unit_cost"), lots.c.location,
                      lots.c.run_id)
        # the value is the ledger's money for the lot (None for an uncosted lot), read
        # lot by lot through the ledger's lot_id index (cheaper than grouping the ledger)
        m = tables.movements
        money = select(func.sum(m.c.cost)).where(m.c.lot_id == lots.c.id).scalar_subquery()
        stmt = stmt.add_columns(cast(case((lots.c.unit_cost.is_(None), null()),
                                          else_=money), Float).label("value"))
        if not include_empty:
            stmt = stmt.where(lots.c.remaining > 0)
        if ingredient is not None:
            stmt = stmt.where(lots.c.id.in_(
                select(lots.c.id).select_from(lots_with_items()[0])
                .where(lots_with_items()[1] == ingredient)))
        if kind is not None:
            stmt = stmt.where(lots.c.kind == kind)
        frame = self._ws.frame(stmt, bulk=True)
        frame = _name_items_and_products(self._ws, frame)
        if not frame.empty:
            frame["purchased_on"] = pd.to_datetime(frame["purchased_on"], format="%Y-%m-%d")
            _sort_in_place(frame)
        return frames.validate(frame, frames.LOTS)

    def _stock_by_unit(self, as_of: dt.date | None = None) -> pd.DataFrame:
        """Stock per item and lot unit in one statement: today's from the lots, or at the
        end of ``as_of`` from the ledger (each lot's movements posted on or before it)."""
        lots = tables.lots
        joined, slug, remaining, value = lots_as_of(as_of)
        i = tables.ingredients
        costed = lots.c.unit_cost.isnot(None)
        stmt = (
            select(slug.label("item"), lots.c.kind, lots.c.unit,
                   i.c.display_unit, cast(i.c.g_per_ml, Float).label("g_per_ml"),
                   cast(func.sum(remaining), Float).label("on_hand"),
                   cast(func.coalesce(func.sum(value), 0), Float).label("value"),
                   cast(func.sum(case((costed, literal(0)), else_=remaining)),
                        Float).label("uncosted"),
                   func.count().label("lots"),
                   func.sum(case((costed, literal(0)), else_=literal(1))).label("uncosted_lots"))
            .select_from(joined)
            .where(held(remaining, as_of))
            .group_by(slug, lots.c.kind, lots.c.unit, i.c.display_unit, i.c.g_per_ml)
            .order_by(slug, lots.c.unit)
        )
        return self._ws.frame(stmt)

    @read_operation
    def levels(self, as_of: Any = None) -> pd.DataFrame:
        """Stock on hand per item in its display unit and in g, ml or each, with value at cost.

        An item held in units that cannot be combined (cups and pounds without a density)
        gets one row per unit. ``as_of`` (a date) gives the stock at the end of that day,
        from the ledger's ``posted_on`` dates, valued at each lot's cost.

        >>> before = ws.inventory.levels(as_of="2025-10-19").set_index("item")
        >>> float(before.loc["flour-ap", "on_hand"]), before.loc["flour-ap", "unit"]
        (10.0, 'lb')
        >>> "butter" in before.index  # bought on 2025-10-20
        False
        """
        day = None if as_of is None else check_date(as_of, "as_of")
        rows: list[dict[str, Any]] = []
        # plain records grouped in Python: a pandas groupby + to_dict per item cost ~2 ms
        # an item, which dominated the read once the SQL aggregate did the heavy lifting
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for record in self._stock_by_unit(day).to_dict("records"):
            groups.setdefault((record["item"], record["kind"]), []).append(record)
        for (item, kind), records in sorted(groups.items()):
            density = records[0]["g_per_ml"]
            g_per_ml = None if pd.isna(density) else Decimal(str(density))
            target = records[0]["display_unit"]
            if not isinstance(target, str):
                target = max(records, key=lambda r: r["lots"])["unit"]
            merged: dict[str, dict[str, Any]] = {}
            for r in records:
                try:
                    f = float(factor(r["unit"], target, g_per_ml=g_per_ml, item=item))
                    unit = target
                except Exception:
                    f, unit = 1.0, r["unit"]
                acc = merged.setdefault(unit, {"on_hand": 0.0, "value": 0.0, "lots": 0,
                                               "uncosted_quantity": 0.0, "uncosted_lots": 0})
                acc["on_hand"] += r["on_hand"] * f
                acc["value"] += r["value"]
                acc["lots"] += int(r["lots"])
                acc["uncosted_quantity"] += r["uncosted"] * f
                acc["uncosted_lots"] += int(r["uncosted_lots"])
            for unit, acc in merged.items():
                if acc["uncosted_lots"]:  # the value depends on a lot with no price: unknown
                    acc["value"] = None
                base = base_unit(unit)
                to_base = float(factor(unit, base, g_per_ml=g_per_ml, item=item))
                rows.append({"item": item, "kind": kind, "unit": unit, "base_unit": base,
                             "on_hand_base": acc["on_hand"] * to_base, **acc})
        return frames.validate(pd.DataFrame(rows), frames.LEVELS)

    @read_operation
    def movements(self, item: str | None = None) -> pd.DataFrame:
        """The ledger: every change of every lot, oldest first."""
        return movements_frame(self._ws, item=item)

    @read_operation
    def valuation(self, as_of: Any = None) -> pd.DataFrame:
        """Value at cost per item, largest first, and a final ``TOTAL`` row; ``as_of`` (a
        date) values the stock held at the end of that day (see ``levels``).

        A row holding stock without a price has no value (``pd.NA``, never 0.0), the
        quantity in ``uncosted_quantity``; the ``TOTAL`` row is then missing too, with
        ``uncosted_lots`` and a ``note`` saying it is incomplete and what is known.

        >>> total = ws.inventory.valuation(as_of="2025-09-30").iloc[-1]
        >>> total["item"], round(float(total["value"]), 2)
        ('TOTAL', 62.19)
        """
        levels = self.levels(as_of)
        frame = levels[["item", "kind", "on_hand", "unit", "value", "uncosted_quantity",
                        "uncosted_lots"]].copy()
        frame = frame.sort_values(["value", "item"], ascending=[False, True],
                                  na_position="last")
        known = float(frame["value"].sum())  # the rows with a value
        unknown = frame.loc[frame["value"].isna(), "item"].tolist()
        frame["share"] = frame["value"] / known if known else 0.0
        frame["note"] = None
        note = None
        if unknown:
            named = ", ".join(unknown[:3]) + (", ..." if len(unknown) > 3 else "")
            note = (f"incomplete: {len(unknown)} item(s) hold stock without a price "
                    f"({named}); the priced stock is worth {known:.2f}")
        total_row = pd.DataFrame([{"item": "TOTAL", "kind": "total", "on_hand": None,
                                   "unit": None, "value": None if unknown else known,
                                   "uncosted_quantity": None,
                                   "uncosted_lots": int(frame["uncosted_lots"].sum()),
                                   "share": None if unknown else (1.0 if known else 0.0),
                                   "note": note}])
        frame = pd.concat([frame, total_row], ignore_index=True) if not frame.empty else total_row
        return frames.validate(frame, frames.VALUATION)

    @read_operation
    def audit(self) -> pd.DataFrame:
        """Recompute every lot from the ledger; the frame lists differences (empty = healthy).

        Problems: ``quantity`` (remaining differs from the ledger sum), ``value`` (a costed
        lot's remaining value differs from the ledger's cost sum), ``negative``.
        """
        lots, m = tables.lots, tables.movements
        joined, slug = lots_with_items()
        sums = (select(m.c.lot_id, func.sum(m.c.quantity).label("qty"),
                       func.sum(m.c.cost).label("cost"))
                .group_by(m.c.lot_id).subquery())
        stmt = (
            select(lots.c.id.label("lot_id"), slug.label("item"),
                   cast(lots.c.remaining, Float).label("remaining"),
                   cast(lots.c.unit_cost, Float).label("unit_cost"),
                   cast(func.coalesce(sums.c.qty, 0), Float).label("ledger_qty"),
                   cast(sums.c.cost, Float).label("ledger_cost"))
            .select_from(joined.outerjoin(sums, sums.c.lot_id == lots.c.id))
            .order_by(lots.c.id)
        )
        frame = self._ws.frame(stmt)
        problems = []
        if not frame.empty:
            bad_qty = (frame["remaining"] - frame["ledger_qty"]).abs() > AUDIT_TOLERANCE
            for r in frame[bad_qty].itertuples():
                problems.append({"lot_id": r.lot_id, "item": r.item, "problem": "quantity",
                                 "recorded": r.remaining, "ledger": r.ledger_qty,
                                 "difference": r.remaining - r.ledger_qty})
            value = frame["remaining"] * frame["unit_cost"]
            costed = frame["unit_cost"].notna()
            tolerance = AUDIT_TOLERANCE * (1 + frame["remaining"].abs())
            bad_value = costed & ((value - frame["ledger_cost"].fillna(0)).abs() > tolerance)
            for r, v in zip(frame[bad_value].itertuples(), value[bad_value], strict=True):
                problems.append({"lot_id": r.lot_id, "item": r.item, "problem": "value",
                                 "recorded": v, "ledger": r.ledger_cost,
                                 "difference": v - (r.ledger_cost or 0.0)})
            for r in frame[frame["remaining"] < 0].itertuples():
                problems.append({"lot_id": r.lot_id, "item": r.item, "problem": "negative",
                                 "recorded": r.remaining, "ledger": r.ledger_qty,
                                 "difference": r.remaining})
        return frames.validate(pd.DataFrame(problems), frames.AUDIT)
