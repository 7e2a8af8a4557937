"""The assembly area: finished goods (units, nested goods, packaging) assembled FIFO."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Float, case, cast, delete, func, insert, null, select, update

from bakekit import frames, stock
from bakekit.areas._common import entries, lookup_id, lookup_row, refuse_duplicate
from bakekit.areas._runs import EACH, RunRequest, availability, record_run, reverse_run
from bakekit.checks import check_datetime, check_key, check_text, positive
from bakekit.db import tables
from bakekit.db.exact import number
from bakekit.db.models.base import utcnow
from bakekit.errors import (
    NotFoundError,
    RecipeCycleError,
    ValidationError,
)
from bakekit.operations import Area, read_operation, write_operation
from bakekit.results import AssemblyResult, Availability, Reversal, Saved
from bakekit.units import COUNT, dimension, exact_factor, normalize_unit, q

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace




def component_rows(ws: Workspace) -> pd.DataFrame:
    """Every finished good's direct components in one statement (all goods at once).

    Columns: good_id, component_kind (finished_unit / finished_good / ingredient),
    component_id, item (the component's slug), quantity (Decimal), unit, g_per_ml,
    position.
    """
    c, fu, fg, i = (tables.finished_good_components, tables.finished_units,
                    tables.finished_goods, tables.ingredients)
    kind = case((c.c.finished_unit_id.isnot(None), "finished_unit"),
                (c.c.component_good_id.isnot(None), "finished_good"), else_="ingredient")
    stmt = (
        select(c.c.finished_good_id.label("good_id"), kind.label("component_kind"),
               func.coalesce(c.c.finished_unit_id, c.c.component_good_id,
                             c.c.ingredient_id).label("component_id"),
               func.coalesce(fu.c.slug, fg.c.slug, i.c.slug).label("item"),
               c.c.quantity, c.c.unit, i.c.g_per_ml, c.c.position)
        .select_from(c.outerjoin(fu, fu.c.id == c.c.finished_unit_id)
                     .outerjoin(fg, fg.c.id == c.c.component_good_id)
                     .outerjoin(i, i.c.id == c.c.ingredient_id))
        .order_by(c.c.finished_good_id, c.c.position, c.c.id)
    )
    result = ws.execute(stmt)  # Row values: quantities stay exact Decimals
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _short_message(amount: Decimal, good: stock.Item, availability: Availability) -> str:
    """Why ``amount`` of ``good`` cannot be assembled: each short component."""
    short = availability.frame[availability.frame["shortfall"] > 0]
    detail = ", ".join(f"{r.item} short {r.shortfall:g} {r.unit}" for r in short.itertuples())
    return f"cannot assemble {float(amount):g} {good.slug}: {detail}"


class Assembly(Area):
    """Finished goods: gift boxes and trays assembled from finished units, other finished
    goods and packaging, consumed FIFO and costed.

    >>> with bakery.session() as ws:
    ...     _ = ws.assembly.add_finished_good("cookie-bag", "Cookie bag",
    ...         components=[("chocolate-chip-cookie", 6), ("cello-bag", 1)])
    ...     made = ws.assembly.record("cookie-bag", quantity=4)
    ...     ws.commit()
    >>> made.quantity
    4.0
    """

    area_name = "assembly"

    # -- definitions ------------------------------------------------------------------------
    def _resolve_components(self, slug: str, components: Any) -> list[dict[str, Any]]:
        """Check and resolve (slug, quantity[, unit]) pairs to component rows."""
        items = entries(components, "components", (2, 3),
                        shape="(slug, quantity) or (slug, quantity, unit) pairs",
                        at_least_one="a finished good needs at least one component")
        rows: list[dict[str, Any]] = []
        seen: set[tuple[str, int]] = set()
        for position, entry in enumerate(items):
            name, quantity = entry[0], entry[1]
            unit = entry[2] if len(entry) == 3 else None
            check_key(name, "component")
            if name == slug:
                raise RecipeCycleError([slug, slug])
            amount = positive(quantity, "quantity")
            item = self._component_item(name)
            if item.kind == "ingredient":
                unit = normalize_unit(unit if unit is not None else EACH, field="unit")
            else:
                if unit is not None:
                    counted = normalize_unit(unit, field="unit")
                    if dimension(counted) != COUNT:
                        raise ValidationError(
                            f"unit: {unit!r} for {name!r}: finished units and finished goods "
                            f"are counted (each, dozen)", field="unit", value=unit)
                    # kept in items: ("cookie", 1, "dozen") is 12 cookies
                    amount = q(Fraction(amount) * exact_factor(counted, EACH))
                unit = None
            if (item.kind, item.id) in seen:
                raise ValidationError(f"components: {name!r} is listed twice; give it once "
                                      "with the total quantity", field="components", value=name)
            seen.add((item.kind, item.id))
            rows.append({
                "finished_unit_id": item.id if item.kind == "finished_unit" else None,
                "component_good_id": item.id if item.kind == "finished_good" else None,
                "ingredient_id": item.id if item.kind == "ingredient" else None,
                "quantity": amount, "unit": unit, "position": position,
            })
        return rows

    def _component_item(self, name: str) -> stock.Item:
        ws = self._ws
        for kind in ("finished_unit", "finished_good"):
            try:
                return stock.resolve_item(ws, kind, name)
            except NotFoundError:
                continue
        try:
            row = lookup_row(ws, "ingredients", "slug", name, "component")
        except NotFoundError:
            raise NotFoundError("component (finished unit, finished good or packaging "
                                "ingredient)", name) from None
        if not row.is_packaging:
            raise ValidationError(
                f"component: ingredient {name!r} is not packaging (is_packaging=False); only "
                f"packaging ingredients go into finished goods", field="component", value=name)
        return stock.Item("ingredient", int(row.id), str(row.slug),
                         None if row.g_per_ml is None else Decimal(row.g_per_ml))

    def _refuse_cycle(self, good_id: int, slug: str, rows: Sequence[dict[str, Any]]) -> None:
        """Refuse components that reach ``good_id`` again; the error names the path."""
        edges: dict[int, list[int]] = {}
        fg = tables.finished_goods
        names = {int(r.id): str(r.slug) for r in self._ws.execute(select(fg.c.id, fg.c.slug))}
        graph = component_rows(self._ws)
        for r in graph[graph["component_kind"] == "finished_good"].itertuples():
            if int(r.good_id) != good_id:
                edges.setdefault(int(r.good_id), []).append(int(r.component_id))
        edges[good_id] = [int(r["component_good_id"]) for r in rows
                          if r["component_good_id"] is not None]

        def walk(node: int, path: list[int]) -> list[int] | None:
            for child in edges.get(node, []):
                if child == good_id:
                    return path + [child]
                if child in path:
                    continue
                found = walk(child, path + [child])
                if found:
                    return found
            return None

        cycle = walk(good_id, [good_id])
        if cycle:
            raise RecipeCycleError([names.get(n, slug) for n in cycle])

    @write_operation
    def add_finished_good(self, slug: str, name: str, *, components: Any,
                          notes: str | None = None) -> Saved:
        """Define a finished good from finished units, other finished goods and packaging.

        A component is ``(slug, quantity)``; a packaging ingredient is counted in "each"
        unless given as ``(slug, quantity, unit)``.

        >>> ws.assembly.add_finished_good("gift-tower", "Gift tower",
        ...     components=[("sugar-cookie", 6), ("frosted-brownie", 2), ("gift-box", 1),
        ...                 ("ribbon", 1, "each")]).key
        'gift-tower'
        """
        ws = self._ws
        check_key(slug, "slug")
        check_key(name, "name")
        check_text(notes, "notes")
        fg = tables.finished_goods
        refuse_duplicate(ws, "finished_goods", "slug", slug, "finished good")
        rows = self._resolve_components(slug, components)
        good_id = int(ws.execute(insert(fg).returning(fg.c.id),
                                 {"slug": slug, "name": name, "notes": notes}).scalar_one())
        ws.execute(insert(tables.finished_good_components),
                   [{"finished_good_id": good_id, **r} for r in rows])
        return Saved("finished_good", slug, good_id)

    @write_operation
    def update_finished_good(self, slug: str, *, name: str | None = None,
                             components: Any = None, notes: str | None = None) -> Saved:
        """Rename a finished good or replace its components (cycles are refused).

        >>> ws.assembly.update_finished_good("cookie-box",
        ...     components=[("sugar-cookie", 12), ("gift-box", 1)]).created
        False
        """
        ws = self._ws
        good_id = lookup_id(ws, "finished_goods", "slug", slug, "finished good")
        fg, c = tables.finished_goods, tables.finished_good_components
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = check_key(name, "name")
        if notes is not None:
            values["notes"] = check_text(notes, "notes")
        if values:
            ws.execute(update(fg).where(fg.c.id == good_id).values(**values))
        if components is not None:
            rows = self._resolve_components(slug, components)
            self._refuse_cycle(good_id, slug, rows)
            ws.execute(delete(c).where(c.c.finished_good_id == good_id))
            ws.execute(insert(c), [{"finished_good_id": good_id, **r} for r in rows])
        return Saved("finished_good", slug, good_id, created=False)

    @read_operation
    def finished_goods(self) -> pd.DataFrame:
        """Every finished good's components, one row per component, sorted by good.

        >>> ws.assembly.finished_goods().query("finished_good == 'cookie-box'")["kind"].tolist()
        ['finished_unit', 'finished_unit', 'ingredient']
        """
        fg = tables.finished_goods
        names = {int(r.id): str(r.slug) for r in self._ws.execute(select(fg.c.id, fg.c.slug))}
        rows = component_rows(self._ws)
        out = pd.DataFrame({
            "finished_good": [names[int(g)] for g in rows["good_id"]],
            "kind": rows["component_kind"], "item": rows["item"],
            "quantity": [float(x) for x in rows["quantity"]],
            "unit": [u if isinstance(u, str) else EACH for u in rows["unit"]],
            "position": rows["position"],
        }) if not rows.empty else pd.DataFrame()
        if not out.empty:
            out = out.sort_values(["finished_good", "position"], kind="stable")
        return frames.validate(out, frames.FINISHED_GOOD_COMPONENTS)

    # -- stock and assembly -----------------------------------------------------------------
    def _needs(self, good: stock.Item, quantity: Decimal) -> list[tuple[stock.Item, Decimal, str]]:
        """What assembling ``quantity`` of ``good`` consumes, per component (stable order)."""
        c, fu, fg, i = (tables.finished_good_components, tables.finished_units,
                        tables.finished_goods, tables.ingredients)
        stmt = (
            select(c.c.finished_unit_id, c.c.component_good_id, c.c.ingredient_id, c.c.quantity,
                   c.c.unit, func.coalesce(fu.c.slug, fg.c.slug, i.c.slug).label("slug"),
                   i.c.g_per_ml)
            .select_from(c.outerjoin(fu, fu.c.id == c.c.finished_unit_id)
                         .outerjoin(fg, fg.c.id == c.c.component_good_id)
                         .outerjoin(i, i.c.id == c.c.ingredient_id))
            .where(c.c.finished_good_id == good.id)
        )
        needs: list[tuple[stock.Item, Decimal, str]] = []
        for r in self._ws.execute(stmt):
            if r.finished_unit_id is not None:
                item = stock.Item("finished_unit", int(r.finished_unit_id), str(r.slug))
            elif r.component_good_id is not None:
                item = stock.Item("finished_good", int(r.component_good_id), str(r.slug))
            else:
                item = stock.Item("ingredient", int(r.ingredient_id), str(r.slug),
                                 None if r.g_per_ml is None else Decimal(r.g_per_ml))
            unit = normalize_unit(r.unit) if r.unit else EACH
            needs.append((item, q(Decimal(r.quantity) * quantity), unit))
        # a stable order: the order in which lots are locked (PostgreSQL FOR UPDATE)
        kinds = {"finished_unit": 0, "finished_good": 1, "ingredient": 2}
        needs.sort(key=lambda n: (kinds[n[0].kind], n[0].id))
        return needs

    @read_operation
    def check(self, finished_good: str, *, quantity: float | int | str) -> Availability:
        """Whether stock covers assembling ``quantity``: one row per component.

        >>> _ = ws.production.record("sugar-cookie", batches=1)  # 24 cookies
        >>> ws.assembly.check("cookie-box", quantity=2).ok
        True
        """
        good = stock.resolve_item(self._ws, "finished_good", finished_good)
        amount = positive(quantity, "quantity")
        return availability(self._ws, self._needs(good, amount))

    @write_operation
    def record(self, finished_good: str, *, quantity: float | int | str,
               event: str | None = None, produced_at: Any = None,
               notes: str | None = None) -> AssemblyResult:
        """Assemble ``quantity`` finished goods: consume every component FIFO (finished units,
        nested finished goods, packaging), make one finished-good lot at the summed cost.

        Raises InsufficientStockError (with the Availability) and writes nothing when a
        component is short.

        >>> _ = ws.production.record("sugar-cookie", batches=1)  # 24 cookies
        >>> ws.assembly.record("cookie-box", quantity=2, event="Holidays 2025").quantity
        2.0
        """
        ws = self._ws
        good = stock.resolve_item(ws, "finished_good", finished_good)
        amount = positive(quantity, "quantity")
        check_text(notes, "notes")
        event_id = None if event is None else lookup_id(ws, "events", "name", event, "event")
        at = utcnow() if produced_at is None else check_datetime(produced_at, "produced_at")
        needs = self._needs(good, amount)
        snapshot = json.dumps({
            "finished_good": good.slug, "quantity": str(amount),
            "components": [{"kind": item.kind, "item": item.slug, "quantity": str(need),
                            "unit": unit} for item, need, unit in needs],
        })
        done = record_run(ws, RunRequest(
            kind="assembly", output=good, quantity=amount, needs=needs, produced_at=at,
            given_at=produced_at,
            short_message=lambda found, _: _short_message(amount, good, found),
            columns={"expected_quantity": amount, "loss": Decimal(0), "event_id": event_id,
                     "notes": notes, "snapshot": snapshot}))
        return AssemblyResult(
            run_id=done.run_id, item=good.slug, quantity=float(amount),
            total_cost=None if done.total_cost is None else float(done.total_cost),
            per_unit_cost=None if done.per_unit_cost is None else float(done.per_unit_cost),
            lot_id=done.lot_id, consumed=done.consumed_with_kind,
            known_cost=float(done.known_cost),
            uncosted_quantity=0.0 if done.total_cost is not None else float(amount),
        )

    @write_operation
    def reverse(self, run_id: int, *, on: Any = None) -> Reversal:
        """Undo an assembly run whose finished goods are untouched: consumed lots get back
        exactly what the run took ("reversal" ledger rows, dated ``on``, default today), the
        run is marked reversed.

        >>> _ = ws.production.record("sugar-cookie", batches=1)  # 24 cookies
        >>> run = ws.assembly.record("cookie-box", quantity=1).run_id
        >>> ws.assembly.reverse(run).item
        'cookie-box'
        """
        return reverse_run(self._ws, run_id, kind="assembly", on=on)

    # -- reads ------------------------------------------------------------------------------
    @read_operation
    def history(self) -> pd.DataFrame:
        """Assembly runs, oldest first: item, quantity, cost, event, reversed.

        >>> _ = ws.production.record("sugar-cookie", batches=1)  # 24 cookies
        >>> _ = ws.assembly.record("cookie-box", quantity=2)
        >>> ws.assembly.history()[["item", "quantity", "reversed"]]
                 item  quantity  reversed
        0  cookie-box       2.0     False
        """
        runs, fg, ev = tables.runs, tables.finished_goods, tables.events
        stmt = (
            select(runs.c.id.label("run_id"), fg.c.slug.label("item"),
                   cast(runs.c.quantity, Float).label("quantity"),
                   cast(runs.c.total_cost, Float).label("total_cost"),
                   cast(runs.c.per_unit_cost, Float).label("per_unit_cost"),
                   ev.c.name.label("event"), runs.c.reversed_at.isnot(None).label("reversed"),
                   runs.c.produced_at, runs.c.imported)
            .select_from(runs.join(fg, fg.c.id == runs.c.finished_good_id)
                         .outerjoin(ev, ev.c.id == runs.c.event_id))
            .where(runs.c.kind == "assembly")
            .order_by(runs.c.produced_at, runs.c.id)
        )
        return frames.validate(self._ws.frame(stmt), frames.HISTORY)

    @read_operation
    def stock(self) -> pd.DataFrame:
        """Finished goods on hand, with their average unit cost (weighted by lot).

        >>> _ = ws.production.record("sugar-cookie", batches=1)  # 24 cookies
        >>> _ = ws.assembly.record("cookie-box", quantity=2)
        >>> ws.assembly.stock()[["item", "on_hand", "lots"]]
                 item  on_hand  lots
        0  cookie-box      2.0     1
        """
        lots, fg = tables.lots, tables.finished_goods
        on_hand = func.sum(lots.c.remaining)
        # unknown (NULL) when any lot has no price, never the value of the priced ones
        value = case((func.count(lots.c.unit_cost) < func.count(), null()),
                     else_=func.sum(number(lots.c.remaining) * number(lots.c.unit_cost)))
        stmt = (
            select(fg.c.slug.label("item"), cast(on_hand, Float).label("on_hand"),
                   cast(value / number(on_hand), Float).label("unit_cost"),
                   cast(value, Float).label("value"),
                   func.count().label("lots"))
            .select_from(lots.join(fg, fg.c.id == lots.c.finished_good_id))
            .where(lots.c.kind == "finished_good", stock.has_stock())
            .group_by(fg.c.slug)
            .order_by(fg.c.slug)
        )
        return frames.validate(self._ws.frame(stmt), frames.STOCK)
