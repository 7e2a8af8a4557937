"""Frozen result objects that write workflows hand back: plain values and DataFrames only."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, overload

import pandas as pd

from bakekit.display import cell_text, frame_html


def _html(title: str, values: dict[str, object], frame: pd.DataFrame | None) -> str:
    """A result in a notebook: its fields, then its frame; money as money (bakekit.display)."""
    rows = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{cell_text(k, v)}</td></tr>"
                   for k, v in values.items() if not isinstance(v, pd.DataFrame))
    body = f"<b>{title}</b><table>{rows}</table>"
    if frame is not None and not frame.empty:
        body += frame_html(frame)
    return body


class LazyFrame:
    """A result's frame built when first read: set it to the frame, or to a function that
    builds it (a write's frames are often never looked at, and building one costs more
    than a statement). Reading it always gives the frame, built once.

    >>> made = ws.production.record("chocolate-chip-cookie", batches=1)
    >>> made.consumed.columns[:2].tolist()
    ['item', 'lot_id']
    """

    def __init__(self, name: str) -> None:
        self._name, self._slot = name, f"_{name}_frame"

    @overload
    def __get__(self, obj: None, owner: Any = None) -> LazyFrame: ...
    @overload
    def __get__(self, obj: object, owner: Any = None) -> pd.DataFrame: ...
    def __get__(self, obj: object | None, owner: Any = None) -> pd.DataFrame | LazyFrame:
        if obj is None:
            return self
        value = obj.__dict__[self._slot]
        if not isinstance(value, pd.DataFrame):
            value = value()
            obj.__dict__[self._slot] = value
        return value

    def __set__(self, obj: object, value: pd.DataFrame | Callable[[], pd.DataFrame]) -> None:
        if value is self:
            raise TypeError(f"{type(obj).__name__}() missing the argument {self._name!r}")
        obj.__dict__[self._slot] = value

    def built(self, obj: object) -> bool:
        """Whether ``obj``'s frame is a frame already (given so, or read once)."""
        return isinstance(obj.__dict__.get(self._slot), pd.DataFrame)


@dataclass(frozen=True)
class Saved:
    """What a catalog-style write saved: the kind of thing, its key and its id."""

    entity: str
    key: str
    id: int
    created: bool = True


@dataclass(frozen=True)
class Receipt:
    """A purchase turned into a lot."""

    lot_id: int
    purchase_id: int
    item: str
    product: str
    quantity: float
    unit: str
    #: price of one package as bought
    package_cost: float | None
    #: cost per lot unit
    unit_cost: float | None
    total_cost: float | None

    def _repr_html_(self) -> str:
        return _html("Receipt", self.__dict__, None)


@dataclass(frozen=True)
class Consumption:
    """FIFO consumption of one item: what was (or would be) taken, lot by lot."""

    item: str
    requested: float
    unit: str
    #: lot_id, purchased_on, quantity, unit (the lot's), unit_cost, cost, requested_quantity
    consumed: pd.DataFrame = field(repr=False)
    #: what could not be taken, in the requested unit
    shortfall: float
    #: cost of what was taken; None when any of it came from a lot without a known price
    #: (the quantity is in ``uncosted``)
    total_cost: float | None
    #: quantity (requested unit) taken from lots without a known price
    uncosted: float = 0.0

    @property
    def ok(self) -> bool:
        return self.shortfall == 0

    def _repr_html_(self) -> str:
        values = {k: v for k, v in self.__dict__.items() if k != "consumed"}
        return _html(f"Consumption of {self.item}", values, self.consumed)


@dataclass(frozen=True)
class Availability:
    """Whether stock covers a need: one row per item (needed, available, shortfall, unit)."""

    ok: bool
    frame: pd.DataFrame = field(repr=False)

    def _repr_html_(self) -> str:
        return _html("Availability", {"ok": self.ok}, self.frame)


@dataclass(frozen=True)
class Adjustment:
    """A stock-take: a lot set to its counted quantity."""

    lot_id: int
    item: str
    before: float
    after: float
    difference: float
    unit: str
    cost: float | None


@dataclass(frozen=True)
class LatePrice:
    """A purchase given its late price (``inventory.set_price``): what the price reached."""

    purchase_id: int
    product: str
    #: price of one package as bought
    package_cost: float
    #: the purchase's lots this price costed (their cost then flowed downstream)
    lots: int

    def _repr_html_(self) -> str:
        return _html("LatePrice", self.__dict__, None)


@dataclass(frozen=True)
class ProductionResult:
    """A production run: finished units made from a recipe, costed FIFO."""

    run_id: int
    item: str
    batches: float
    expected_quantity: float
    #: items actually made (the actual yield)
    quantity: float
    loss: float
    #: None when anything consumed has no known price (the cost is unknown, never 0)
    total_cost: float | None
    per_unit_cost: float | None
    lot_id: int
    #: per lot consumed: item, lot_id, purchased_on, quantity, unit, unit_cost, cost
    #: (built when first read)
    consumed: LazyFrame = field(default=LazyFrame("consumed"), repr=False)
    #: what the priced part of the inputs cost (equals total_cost when all are priced)
    known_cost: float = 0.0
    #: items made whose cost is unknown (all of them when an input has no price)
    uncosted_quantity: float = 0.0

    def _repr_html_(self) -> str:
        values = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        return _html(f"Production run {self.run_id}", values, self.consumed)


@dataclass(frozen=True)
class AssemblyResult:
    """An assembly run: finished goods made from finished units, goods and packaging."""

    run_id: int
    item: str
    quantity: float
    #: None when anything consumed has no known price (the cost is unknown, never 0)
    total_cost: float | None
    per_unit_cost: float | None
    lot_id: int
    #: per lot consumed, as for ProductionResult, plus kind (built when first read)
    consumed: LazyFrame = field(default=LazyFrame("consumed"), repr=False)
    #: what the priced part of the components cost (equals total_cost when all are priced)
    known_cost: float = 0.0
    #: goods made whose cost is unknown (all of them when a component has no price)
    uncosted_quantity: float = 0.0

    def _repr_html_(self) -> str:
        values = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        return _html(f"Assembly run {self.run_id}", values, self.consumed)


@dataclass(frozen=True)
class Reversal:
    """A reversed production or assembly run: lots restored, reversal rows in the ledger."""

    run_id: int
    item: str
    restored: pd.DataFrame = field(repr=False)


@dataclass(frozen=True)
class ImportReport:
    """What an import did, per entity: read, created, updated, unchanged, skipped (+ reasons).

    ``unknown_fields`` maps an entity to the field names of the file it did not understand.
    ``frame`` is built when first read (``counts`` does not need it).
    """

    frame: LazyFrame = field(default=LazyFrame("frame"), repr=False, compare=False)
    unknown_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = ""
    version: str | None = None
    #: prices of 0 read as "not known yet" (``zero_price="unknown"``)
    zero_prices: int = 0
    #: rows given twice, identically, in one section (counted once)
    identical_rows: int = 0
    #: lots created without a price (uncosted: a later price fills them)
    uncosted_lots: int = 0
    #: the counts per entity the frame is built from (internal: ``counts`` reads them)
    _counts: Mapping[str, Mapping[str, int]] | None = field(default=None, repr=False,
                                                            compare=False)

    def counts(self, entity: str) -> dict[str, int]:
        """The counts of one entity as a dict (read, created, updated, unchanged, skipped)."""
        keys = ("read", "created", "updated", "unchanged", "skipped")
        if self._counts is not None:
            found = self._counts.get(entity, {})
            return {k: int(found.get(k, 0)) for k in keys}
        row = self.frame[self.frame["entity"] == entity]
        if row.empty:
            return {k: 0 for k in keys}
        r = row.iloc[0]
        return {k: int(r[k]) for k in keys}

    def _repr_html_(self) -> str:
        return _html("Import report", {"source": self.source, "version": self.version},
                     self.frame)


@dataclass(frozen=True)
class Reconciliation:
    """A review of an input file against the database: one frame row per input row.

    ``status`` is new / changed / unchanged / missing / conflict / invalid; ``apply()``
    writes the new and changed rows in the workspace the reconciliation was made in.
    ``frame`` is built when first read, and is the one thing ``apply()`` writes from: edit
    its ``status`` (``unchanged``, ``skipped``) or its match, and that is what is written.
    """

    kind: str
    frame: LazyFrame = field(default=LazyFrame("frame"), repr=False)
    #: the workspace's IO area (internal: apply() writes through it)
    _area: object = field(repr=False, compare=False, default=None)
    #: fields of the source's records that the review did not read (listed, not dropped)
    unknown_fields: tuple[str, ...] = ()
    #: what the source said it is ("view purchases", "bt_mobile inventory_updates"), if it did
    source_format: str = ""

    def counts(self) -> dict[str, int]:
        """How many rows of the frame have each status (the most common first)."""
        found = Counter(str(s) for s in self.frame["status"].tolist())
        return dict(sorted(found.items(), key=lambda kv: -kv[1]))

    def apply(self) -> ImportReport:
        """Write the new and changed rows (atomically, recorded as one write operation)."""
        if self._area is None:
            from bakekit.errors import BakekitError

            raise BakekitError("this reconciliation is not bound to a workspace: make it with "
                               "ws.io.reconcile(...) and apply it inside that workspace")
        return self._area.apply_reconciliation(self)  # type: ignore[attr-defined,no-any-return]

    def _repr_html_(self) -> str:
        return _html(f"Reconciliation ({self.kind})", dict(self.counts()), self.frame)
