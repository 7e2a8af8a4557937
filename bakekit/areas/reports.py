"""The reports area: analyst reads over the ledger's history (prices, usage, ageing, event cost).

Every read is one statement or a fixed few, whatever the length of the history; history is
read by the ledger's business date ``posted_on``, never by when a row was typed in.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Float, String, and_, case, cast, func, null, or_, select

from bakekit import frames, stock
from bakekit.areas._common import lookup_id
from bakekit.areas._event_cost import package_weights
from bakekit.areas._needs import event_needs
from bakekit.areas.events import Events
from bakekit.checks import check_date, today
from bakekit.db import tables
from bakekit.errors import UnitConversionError, ValidationError
from bakekit.operations import Area, read_operation
from bakekit.stock.queries import held, lots_as_of, lots_with_items
from bakekit.units import factor, normalize_unit

#: upper bounds (days, inclusive) and labels of the ageing buckets; the last is open
AGE_BUCKETS = ((30, "0-30"), (90, "31-90"), (180, "91-180"), (None, "181+"))
#: a few pandas offset aliases, named in the error for an unknown ``freq``
FREQ_EXAMPLES = ("D", "W", "W-MON", "MS", "ME", "QS", "YS")
TOTAL = "TOTAL"
EACH = "each"


def _to_date(value: Any, field: str) -> dt.date | None:
    return None if value is None else check_date(value, field)


def _target_unit(display_unit: Any, units: list[str]) -> str:
    """The one unit an item is reported in: its display unit, else its most common unit
    (ties: alphabetical), as ``levels`` does."""
    if isinstance(display_unit, str) and display_unit:
        return normalize_unit(display_unit)
    counts = pd.Series(units).value_counts()
    best = counts[counts == counts.max()].index
    return str(sorted(best)[0])


def _converter(item: str, g_per_ml: Any, target: str) -> Any:
    """A function: unit -> (factor to ``target`` as float, unit reported) for one item; a
    unit that does not convert stays as it is (factor 1)."""
    density = None if g_per_ml is None or pd.isna(g_per_ml) else Decimal(str(g_per_ml))
    cache: dict[str, tuple[float, str]] = {}

    def convert(unit: str) -> tuple[float, str]:
        if unit not in cache:
            try:
                cache[unit] = (float(factor(unit, target, g_per_ml=density, item=item)), target)
            except UnitConversionError:
                cache[unit] = (1.0, unit)
        return cache[unit]

    return convert


def _in_item_units(frame: pd.DataFrame, unit_column: str) -> pd.DataFrame:
    """Add ``factor`` and ``unit`` columns: each row's quantity unit (``unit_column``) to the
    item's one unit (needs ``item``, ``display_unit`` and ``g_per_ml`` columns)."""
    for item, group in frame.groupby("item", sort=False):
        target = _target_unit(group["display_unit"].iloc[0],
                              [normalize_unit(u) for u in group[unit_column]])
        convert = _converter(str(item), group["g_per_ml"].iloc[0], target)
        pairs = [convert(normalize_unit(u)) for u in group[unit_column]]
        frame.loc[group.index, "factor"] = [p[0] for p in pairs]
        frame.loc[group.index, "unit"] = [p[1] for p in pairs]
    return frame


class Reports(Area):
    """Reads over history for analysts: price history, usage per period, lot ageing and
    what an event costs. Each returns a DataFrame; ``bakekit.nb.plots`` draws them.

    >>> ws.reports.aging()["bucket"].isin(["0-30", "31-90", "91-180", "181+"]).all()
    np.True_
    """

    area_name = "reports"

    # -- prices -------------------------------------------------------------------------------
    @read_operation
    def price_history(self, item: str | None = None) -> pd.DataFrame:
        """Every priced purchase, oldest first per item: the package price and the price
        per unit in one unit per item (its display unit, else its most common package
        unit), so an item's rows compare across brands and package sizes. Purchases
        without a known price are left out.

        >>> flour = ws.reports.price_history("flour-ap")
        >>> flour[["product", "package_price", "price_per_unit", "unit"]]
                     product  package_price  price_per_unit unit
        0       ka-flour-5lb           6.49          1.2980   lb
        1  costco-flour-25lb          11.99          0.4796   lb
        """
        pu, p, i, s = (tables.purchases, tables.products, tables.ingredients,
                       tables.suppliers)
        stmt = (
            select(i.c.slug.label("item"), p.c.slug.label("product"),
                   s.c.name.label("supplier"),
                   cast(pu.c.purchased_on, String).label("purchased_on"),
                   cast(pu.c.unit_cost, Float).label("package_price"),
                   cast(p.c.package_quantity, Float).label("package_quantity"),
                   p.c.package_unit, cast(pu.c.packages, Float).label("packages"),
                   i.c.display_unit, cast(i.c.g_per_ml, Float).label("g_per_ml"))
            .select_from(pu.join(p, p.c.id == pu.c.product_id)
                         .join(i, i.c.id == p.c.ingredient_id)
                         .outerjoin(s, s.c.id == func.coalesce(pu.c.supplier_id,
                                                               p.c.supplier_id)))
            .where(pu.c.unit_cost.isnot(None))
            .order_by(i.c.slug, pu.c.purchased_on, pu.c.id)
        )
        if item is not None:
            item_id = lookup_id(self._ws, "ingredients", "slug", item, "ingredient")
            stmt = stmt.where(i.c.id == item_id)
        frame = self._ws.frame(stmt)
        if frame.empty:
            return frames.validate(pd.DataFrame(), frames.PRICE_HISTORY)
        frame["purchased_on"] = pd.to_datetime(frame["purchased_on"].str[:10],
                                               format="%Y-%m-%d")
        frame = _in_item_units(frame, "package_unit")
        frame["price_per_unit"] = (frame["package_price"]
                                   / (frame["package_quantity"] * frame["factor"]))
        frame = frame.drop(columns=["factor", "display_unit", "g_per_ml"])
        return frames.validate(frame, frames.PRICE_HISTORY)

    # -- usage --------------------------------------------------------------------------------
    @read_operation
    def usage(self, start: Any = None, end: Any = None, *, freq: str = "MS") -> pd.DataFrame:
        """What left stock per period (``freq``, a pandas offset alias: "MS" months, "W"
        weeks, "QS" quarters...), item and reason, in one unit per item, at FIFO cost.

        Counted: consumptions, production and assembly, stock-take losses, each on its
        ``posted_on`` date between ``start`` and ``end`` (inclusive). A reversed run's
        restored stock counts back (negative) under the run's kind on the reversal's
        date; stock that arrived (purchases, runs' output, gains at a count) is not usage.

        >>> used = ws.reports.usage("2025-12-01", "2025-12-31")
        >>> used.set_index("item").loc["butter", ["period", "reason", "quantity", "unit"]]
        period      2025-12-01 00:00:00
        reason               production
        quantity                    0.5
        unit                         lb
        Name: butter, dtype: object
        """
        first, last = _to_date(start, "start"), _to_date(end, "end")
        offset = self._offset(freq)
        if first is not None and last is not None and first > last:
            raise ValidationError(f"start: {first} is after end {last}", field="start",
                                  value=start)
        m, lots, runs = tables.movements, tables.lots, tables.runs

        joined, slug = lots_with_items()
        i = tables.ingredients
        restoring = and_(m.c.reason == "reversal", m.c.quantity > 0)
        reason = case((restoring, func.coalesce(runs.c.kind, m.c.reason)), else_=m.c.reason)
        stmt = (
            select(cast(m.c.posted_on, String).label("posted_on"), slug.label("item"),
                   lots.c.kind, reason.label("reason"), lots.c.unit.label("lot_unit"),
                   i.c.display_unit, cast(i.c.g_per_ml, Float).label("g_per_ml"),
                   cast(func.sum(-m.c.quantity), Float).label("quantity"),
                   # unknown (NULL) when any row of the group has no cost, never a part
                   cast(case((func.count(m.c.cost) < func.count(), null()),
                             else_=func.sum(-m.c.cost)), Float).label("cost"))
            .select_from(m.join(joined, lots.c.id == m.c.lot_id)
                         .outerjoin(runs, runs.c.id == m.c.run_id))
            .where(or_(and_(m.c.quantity < 0, m.c.reason != "reversal"), restoring))
            .group_by(m.c.posted_on, slug, lots.c.kind, reason, lots.c.unit,
                      i.c.display_unit, i.c.g_per_ml)
        )
        if first is not None:
            stmt = stmt.where(m.c.posted_on >= first)
        if last is not None:
            stmt = stmt.where(m.c.posted_on <= last)
        frame = self._ws.frame(stmt)
        if frame.empty:
            return frames.validate(pd.DataFrame(), frames.USAGE)
        frame["posted_on"] = pd.to_datetime(frame["posted_on"].str[:10], format="%Y-%m-%d")
        frame = _in_item_units(frame, "lot_unit")
        frame["quantity"] = frame["quantity"] * frame["factor"]
        grouped = (frame.groupby([pd.Grouper(key="posted_on", freq=offset), "item", "kind",
                                  "reason", "unit"], sort=True, observed=True)
                   .agg(quantity=("quantity", "sum"),
                        cost=("cost", lambda c: c.sum() if c.notna().all() else None))
                   .reset_index().rename(columns={"posted_on": "period"}))
        grouped = grouped[grouped["quantity"].abs() > 1e-9]
        grouped = grouped.sort_values(["period", "item", "reason"], kind="stable")
        return frames.validate(grouped, frames.USAGE)

    @staticmethod
    def _offset(freq: object) -> Any:
        message = (f"freq: {freq!r} is not a pandas offset alias (e.g. "
                   f"{', '.join(FREQ_EXAMPLES)})")
        if not isinstance(freq, str) or not freq.strip():
            raise ValidationError(message, field="freq", value=freq)
        try:
            return pd.tseries.frequencies.to_offset(freq)
        except (ValueError, TypeError) as exc:
            raise ValidationError(message, field="freq", value=freq) from exc

    # -- ageing -------------------------------------------------------------------------------
    @read_operation
    def aging(self, as_of: Any = None) -> pd.DataFrame:
        """Lots holding stock at the end of ``as_of`` (default today), oldest first: age in
        days since the lot's date, its bucket ("0-30", "31-90", "91-180", "181+"), what it
        held then and its value at the lot's cost (NaN for an uncosted lot).

        >>> old = ws.reports.aging(as_of="2025-12-31")
        >>> old[["item", "age_days", "bucket"]].head(2)
                  item  age_days  bucket
        0      vanilla       123  91-180
        1  baking-soda       123  91-180
        """
        day = _to_date(as_of, "as_of")
        lots = tables.lots

        joined, slug, remaining, value = lots_as_of(day)
        stmt = (
            select(lots.c.id.label("lot_id"), slug.label("item"), lots.c.kind,
                   cast(lots.c.acquired_on, String).label("purchased_on"),
                   cast(remaining, Float).label("remaining"), lots.c.unit,
                   cast(lots.c.unit_cost, Float).label("unit_cost"),
                   cast(value, Float).label("value"))
            .select_from(joined)
            .where(held(remaining, day))
            .order_by(lots.c.acquired_on, lots.c.id)
        )
        frame = self._ws.frame(stmt)
        if frame.empty:
            return frames.validate(pd.DataFrame(), frames.AGING)
        frame["purchased_on"] = pd.to_datetime(frame["purchased_on"].str[:10],
                                               format="%Y-%m-%d")
        reference = pd.Timestamp(day if day is not None else today())
        frame["age_days"] = (reference - frame["purchased_on"]).dt.days.clip(lower=0)
        frame["bucket"] = frame["age_days"].map(_bucket)
        return frames.validate(frame, frames.AGING)

    # -- events -------------------------------------------------------------------------------
    @read_operation
    def event_cost(self, event: str) -> pd.DataFrame:
        """What an event costs, per package given and in a ``TOTAL`` row: ``cost_from_stock``
        (the ingredients and packaging stock on hand covers, at FIFO cost) plus
        ``cost_to_buy`` (the shopping list's estimated cost of the rest, whole packages at
        the latest known prices).

        Each ingredient's costs are shared among packages by how much of it each package
        needs (the event's whole batches split by the packages' shares of the finished
        units). Finished units and goods already on hand are not counted, as in
        ``events.shopping_list``.

        >>> cost = ws.reports.event_cost("Holidays 2025")
        >>> cost[["package", "recipients", "quantity"]]
                 package  recipients  quantity
        0  brownie-lover           2       2.0
        1        classic           3      14.0
        2         deluxe           1       1.0
        3          TOTAL           6      17.0
        >>> round(float(cost["cost_from_stock"].iloc[-1]), 2)
        52.29
        """
        ws = self._ws
        event_id = lookup_id(ws, "events", "name", event, "event")
        events = Events(ws)
        needs = event_needs(ws, event_id).ingredients
        stock_cost, uncosted = _stock_costs(needs, stock.take_many(ws, needs) if needs else [])
        buy = events.shopping_list(event)
        buy_cost: dict[tuple[str, str], float] = defaultdict(float)
        unpriced: list[str] = []
        for row in buy.itertuples(index=False):
            if pd.notna(row.estimated_cost):
                buy_cost[(str(row.item), str(row.unit))] += float(row.estimated_cost)
            elif row.shortfall > 0:
                unpriced.append(str(row.item))
        packages, weights = package_weights(ws, event_id, needs)
        rows: list[dict[str, Any]] = []
        for slug, recipients, quantity in packages:
            from_stock: float | None = 0.0
            to_buy = 0.0
            for item, _, unit in needs:
                share = weights.get((slug, item.id, unit), 0.0)
                total_need = sum(weights.get((p, item.id, unit), 0.0) for p, _, _ in packages)
                if share <= 0 or total_need <= 0:
                    continue
                cost = stock_cost[(item.id, unit)]
                from_stock = (None if cost is None or from_stock is None
                              else from_stock + cost * share / total_need)
                to_buy += buy_cost[(item.slug, unit)] * share / total_need
            rows.append({"package": slug, "recipients": recipients, "quantity": quantity,
                         "cost_from_stock": from_stock, "cost_to_buy": to_buy,
                         "total_cost": None if from_stock is None else from_stock + to_buy,
                         "note": None})
        costs = list(stock_cost.values())
        total_stock = None if None in costs else sum(c for c in costs if c is not None)
        total_buy = sum(buy_cost.values())
        recipients_total = ws.scalar(
            select(func.count(func.distinct(tables.assignments.c.recipient_id)))
            .where(tables.assignments.c.event_id == event_id))
        notes = []
        if uncosted:
            notes.append(f"incomplete: stock of {', '.join(sorted(uncosted))} has no price, "
                         f"so cost_from_stock is unknown")
        if unpriced:
            notes.append(f"no known price for {', '.join(sorted(set(unpriced)))}: "
                         f"not in cost_to_buy")
        rows.append({"package": TOTAL, "recipients": int(recipients_total or 0),
                     "quantity": sum(float(r["quantity"]) for r in rows),
                     "cost_from_stock": total_stock, "cost_to_buy": total_buy,
                     "total_cost": None if total_stock is None else total_stock + total_buy,
                     "note": "; ".join(notes) or None})
        return frames.build(rows, frames.EVENT_COST)


def _stock_costs(needs: Any, plans: Any) -> tuple[dict[tuple[int, str], float | None], set[str]]:
    """Each needed item's cost from stock (per item and unit), and the items whose cost is
    unknown: an item's cost is None when any of it comes from a lot without a price (every
    package needing it, and the TOTAL, are then unknown too)."""
    stock_cost: dict[tuple[int, str], float | None] = defaultdict(float)
    uncosted: set[str] = set()
    for (item, _, unit), plan in zip(needs, plans, strict=True):
        known, before = plan.known_cost, stock_cost[(item.id, unit)]
        if known is None:
            uncosted.add(item.slug)
        stock_cost[(item.id, unit)] = (None if known is None or before is None
                                       else before + float(known))
    return stock_cost, uncosted


def _bucket(age: int) -> str:
    for bound, label in AGE_BUCKETS:
        if bound is None or age <= bound:
            return label
    return AGE_BUCKETS[-1][1]  # pragma: no cover
