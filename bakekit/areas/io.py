"""The io area (``ws.io``): bake-tracker import, bakekit JSON export/load, history import,
reconciliation; the work itself is in the ``bakekit.io`` package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bakekit.errors import ValidationError
from bakekit.operations import Area, read_operation, write_operation
from bakekit.results import ImportReport, Reconciliation


class IO(Area):
    """Import, export and reconciliation, all inside the caller's workspace.

    >>> with bakery.session() as ws:
    ...     review = ws.io.reconcile(pd.DataFrame([{"product_name": "Butter 4 lb",
    ...         "brand": "Kirkland", "price": "$14.49", "package_qty": 4, "package_unit": "lb"}]))
    ...     report = review.apply()
    ...     ws.commit()
    >>> review.frame[["status", "message", "match"]].values.tolist()
    [['changed', 'price 13.99 -> 14.49', 'costco-butter-4lb']]
    """

    area_name = "io"

    @write_operation
    def import_bake_tracker(self, path: str | Path | dict[str, Any], *,
                            duplicates: str = "refuse",
                            zero_price: str = "unknown") -> ImportReport:
        """Import a bake-tracker export (versions 3.x and 4.x, whole or partial).

        A price of 0 is bake-tracker's "not known yet": an uncosted lot that a later price
        fills (``zero_price="zero"`` keeps a real zero). A key given twice in a section:
        identical rows count once; differing rows are refused unless ``duplicates="first"``
        or ``"last"`` says which to keep.

        Rows already there are updated where they differ, so re-importing a file creates
        nothing; every problem of the file is collected and raised together as
        ImportValidationError (``.errors``), and then nothing is written.

        >>> report = ws.io.import_bake_tracker({"version": "4.2",
        ...     "ingredients": [{"slug": "rye_flour", "display_name": "Rye flour"}],
        ...     "products": [{"ingredient_slug": "rye_flour", "brand": "Bob's",
        ...                   "product_name": "Rye 2 lb", "package_unit_quantity": 2,
        ...                   "package_unit": "lb"}]})
        >>> report.frame[["entity", "read", "created"]].head(2)
                entity  read  created
        0  ingredients     1        1
        1     products     1        1
        """
        from bakekit.io.bake_tracker import import_bake_tracker

        return import_bake_tracker(self._ws, path, duplicates=duplicates,
                                   zero_price=zero_price)

    @read_operation
    def reconcile(self, source: Any, kind: str | None = None) -> Reconciliation:
        """Review a price list, purchases or a stock count against the database.

        ``kind=None`` reads the kind from bake-tracker files that say what they are: views
        (``view_type`` products / purchases / inventory -> "products", "purchases",
        "inventory_count") and bt_mobile files (``import_type`` purchases /
        inventory_updates -> "purchases", "inventory_count"); any other source is a price
        list ("prices") unless ``kind`` says otherwise. A view record matches by the
        bake-tracker id or uuid remembered earlier, then by natural key; only its editable
        fields and prices change anything, and ``apply()`` remembers its ids.

        ``source`` is a DataFrame or a CSV, JSON or Excel path. The frame has one row per
        input row: ``status`` new / changed / unchanged / missing / conflict / invalid, a
        message, the fields that differ, and for prices the fuzzy ``match`` and ``score``.
        Nothing is written until ``.apply()``.

        >>> prices = pd.DataFrame([{"product_name": "Butter 4 lb", "brand": "Kirkland",
        ...                         "price": "$14.49", "package_qty": 4, "package_unit": "lb"}])
        >>> review = ws.io.reconcile(prices, kind="prices")
        >>> review.frame[["row", "status", "match", "score"]]
           row   status              match  score
        0    0  changed  costco-butter-4lb   80.0
        >>> review.apply().counts("prices")["updated"]
        1
        """
        from bakekit.io.reconcile import reconcile

        return reconcile(self._ws, self, source, kind)

    @write_operation
    def apply_reconciliation(self, reconciliation: Reconciliation, *,
                             reason: str = "stock count") -> ImportReport:
        """Write a reconciliation's new and changed rows (what ``Reconciliation.apply`` does).

        >>> bought = pd.DataFrame([{"product": "eggs-24", "packages": 1, "unit_cost": 7.79,
        ...                         "purchased_on": "2025-11-30", "supplier": "Costco"}])
        >>> ws.io.apply_reconciliation(ws.io.reconcile(bought, kind="purchases")).counts(
        ...     "purchases")["created"]
        1
        """
        from bakekit.io.reconcile import apply

        if reconciliation._area is not None and reconciliation._area is not self:
            raise ValidationError("this reconciliation was made in another workspace; "
                                  "reconcile again here", field="reconciliation",
                                  value=reconciliation.kind)
        return apply(self._ws, reconciliation, reason=reason)

    @read_operation
    def export(self, path: str | Path) -> dict[str, int]:
        """Write the whole database to a bakekit JSON file (docs/format.md); returns the row
        count per table. Rows carry slugs, names and uuids, never database ids.

        >>> ws.io.export(tmp / "bakery.json")["lots"]
        18
        """
        from bakekit.io.export import export

        return export(self._ws, path)

    @write_operation
    def load(self, path: str | Path) -> ImportReport:
        """Read a bakekit JSON file (any version the exporter has written) into an empty
        database.

        >>> with bakery.session() as ws:
        ...     _ = ws.io.export(tmp / "bakery.json")
        >>> with bakekit.open(tmp / "copy.db").session() as ws:
        ...     report = ws.io.load(tmp / "bakery.json")
        ...     ws.commit()
        ...     len(ws.inventory.lots())
        18
        """
        from bakekit.io.export import load

        return load(self._ws, path)

    @write_operation
    def import_history(self, source: str | Path | Any) -> ImportReport:
        """Import production and assembly runs (columns item, quantity, produced_at, and
        optionally kind, batches, total_cost, event, notes) from a CSV/JSON/Excel path or a
        DataFrame, as imported runs that move no stock. A run already recorded (same item,
        produced_at and quantity) is reported as unchanged, not inserted again.

        >>> runs = pd.DataFrame([{"item": "sugar-cookie", "quantity": 48,
        ...                       "produced_at": "2024-12-14T10:00"}])
        >>> ws.io.import_history(runs).counts("runs")["created"]
        1
        """
        from bakekit.io.history import import_history

        return import_history(self._ws, source)
