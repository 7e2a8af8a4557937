"""The things lots hold: ``Item``, and the one map from an item's kind to its table and its
column on ``lots``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, select

from bakekit.db import tables
from bakekit.errors import NotFoundError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace


@dataclass(frozen=True)
class Kind:
    """One kind of item: its table, its column on ``lots`` (and on components), and how
    messages name it."""

    name: str
    table: Table
    column: str
    label: str


#: the one kind -> table/column map: ingredients, finished units, finished goods
KINDS: dict[str, Kind] = {
    "ingredient": Kind("ingredient", tables.ingredients, "ingredient_id", "ingredient"),
    "finished_unit": Kind("finished_unit", tables.finished_units, "finished_unit_id",
                          "finished unit"),
    "finished_good": Kind("finished_good", tables.finished_goods, "finished_good_id",
                          "finished good"),
}

#: what a run of each kind makes (its lot's kind)
RUN_OUTPUT = {"production": "finished_unit", "assembly": "finished_good"}


@dataclass(frozen=True)
class Item:
    """Something lots can hold: its kind, id, slug and (ingredients) density.

    >>> Item("ingredient", 1, "flour-ap", Decimal("0.53")).column
    'ingredient_id'
    """

    kind: str
    id: int
    slug: str
    g_per_ml: Decimal | None = None

    @property
    def column(self) -> str:
        """The item's column on ``lots``."""
        return KINDS[self.kind].column


def item_of_row(kind: str, row: Any) -> Item:
    """The Item of a row of its kind's table (id, slug and, for ingredients, g_per_ml).

    >>> from sqlalchemy import select
    >>> from bakekit import stock
    >>> from bakekit.db import tables
    >>> row = ws.execute(select(tables.finished_units).where(tables.finished_units.c.id == 3)).one()
    >>> stock.item_of_row("finished_unit", row)
    Item(kind='finished_unit', id=3, slug='sugar-cookie', g_per_ml=None)
    """
    density = getattr(row, "g_per_ml", None)
    return Item(kind, int(row.id), str(row.slug), None if density is None else Decimal(density))


def resolve_item(ws: Workspace, kind: str, slug: object) -> Item:
    """Look up an item by kind and slug (NotFoundError names the kind and the slug).

    >>> from bakekit import stock
    >>> flour = stock.resolve_item(ws, "ingredient", "flour-ap")
    >>> flour.kind, flour.id, flour.slug
    ('ingredient', 1, 'flour-ap')
    """
    k = KINDS[kind]
    if not isinstance(slug, str):
        raise ValidationError(f"{k.label}: {slug!r} must be a slug (text)", field=k.label,
                              value=slug)
    row = ws.execute(select(k.table).where(k.table.c.slug == slug)).first()
    if row is None:
        raise NotFoundError(k.label, slug)
    return item_of_row(kind, row)


def resolve_any(ws: Workspace, slug: object) -> Item:
    """Look up an item of any kind by slug: ingredient, then finished unit, then good.

    >>> from bakekit import stock
    >>> stock.resolve_any(ws, "sugar-cookie").kind
    'finished_unit'
    """
    for kind in KINDS:
        try:
            return resolve_item(ws, kind, slug)
        except NotFoundError:
            continue
    raise NotFoundError("item", slug)


def lot_item(ws: Workspace, lot: Any) -> Item:
    """The Item a lot row holds (one statement).

    >>> from sqlalchemy import select
    >>> from bakekit import stock
    >>> from bakekit.db import tables
    >>> lot = ws.execute(select(tables.lots).where(tables.lots.c.id == 1)).one()
    >>> stock.lot_item(ws, lot).slug
    'flour-ap'
    """
    k = KINDS[lot.kind]
    row = ws.execute(select(k.table).where(k.table.c.id == getattr(lot, k.column))).one()
    return item_of_row(lot.kind, row)
