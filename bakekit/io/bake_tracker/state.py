"""The state one import carries through its phases (parse, resolve, write): the file,
the options, the rows parsed, what the database holds, and the problems and counts."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import select

from bakekit.db import tables
from bakekit.io._sync import (
    Checker,
    Problems,
    Tally,
)
from bakekit.io.external import remembered

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace


class WrittenProduct(NamedTuple):
    """A product as the purchases and lots of an import need it (the row as written)."""

    id: int
    ingredient_id: int
    supplier_id: int | None
    package_quantity: Decimal
    package_unit: str


class State:
    """One import's data, shared by its phases; each phase fills what the next reads."""

    #: the database's rows by natural key, and the bake-tracker keys remembered
    db: dict[str, dict[Any, Any]]
    remembered: dict[str, Any]
    #: resolved references (resolve phase)
    candidates: dict[str, dict[str, Any]]
    _by_ingredient: dict[Any, list[dict[str, Any]]] | None
    file_purchases: dict[tuple[Any, Any], list[dict[str, Any]]]
    file_purchases_by_id: dict[str, dict[str, Any]]
    units_of: dict[str, list[str]]
    items_per_batch: dict[str, Decimal]
    #: the keys each entity may be referred to by (file and database), per entity
    known: dict[str, set[str]]
    recipe_names: dict[str, str]
    #: whether a lot of a purchase is still uncosted after the lots are written
    uncosted_purchase_lots: bool
    #: local ids by key (write phase)
    supplier_ids: dict[str, int]
    ingredient_ids: dict[str, int]
    product_rows: dict[Any, Any]
    unit_ids: dict[str, int]
    recipe_ids: dict[str, int]
    good_ids: dict[str, int]
    package_ids: dict[str, int]
    event_ids: dict[str, int]

    def __init__(self, ws: Workspace, data: dict[str, Any], source: str, *,
                 duplicates: str = "refuse", zero_price: str = "unknown"):
        self.ws = ws
        self.data = data
        self.source = source
        self.duplicate_mode = duplicates
        self.zero_price = zero_price
        #: prices of 0 read as "not known yet", identical rows counted once, uncosted new lots
        self.zero_prices = 0
        self.identical = 0
        self.uncosted_lots = 0
        self.problems = Problems()
        self.tally = Tally()
        self.unknown: dict[str, set[str]] = defaultdict(set)
        self.version: str | None = None
        self.rows: dict[str, list[dict[str, Any]]] = {}

    def _check(self, entity: str, row: int) -> Checker:
        return Checker(self.problems, entity, row)

    def _price(self, value: Decimal | None) -> Decimal | None:
        """A price as the file means it: 0 is bake-tracker's "not known yet" unless
        ``zero_price="zero"`` says it is a real zero."""
        if value is not None and value == 0 and self.zero_price == "unknown":
            self.zero_prices += 1
            return None
        return value

    def _remembered_slug(self, entity: str, external_id: str) -> str | None:
        """The slug (or name) of a local row a remembered bake-tracker id names."""
        if not hasattr(self, "remembered"):
            self.remembered = remembered(self.ws, ("ingredients", "products", "suppliers",
                                                   "purchases", "lots"))
        local = self.remembered[entity].find(external_id)
        if local is None:
            return None
        t = tables.by_name(entity)
        col = t.c.name if entity == "suppliers" else t.c.slug
        found = self.ws.scalar(select(col).where(t.c.id == local))
        return None if found is None else str(found)


def dedupe(wanted: list[tuple[Any, dict[str, Any]]], tally: Tally, entity: str
            ) -> list[tuple[Any, dict[str, Any]]]:
    """Drop later rows of a key already seen in the same file (counted as skipped)."""
    seen: set[Any] = set()
    out = []
    for key, values in wanted:
        if key in seen:
            tally.add(entity, "skipped")
            tally.reason(entity, "same key twice in the file: later row skipped")
            continue
        seen.add(key)
        out.append((key, values))
    return out
