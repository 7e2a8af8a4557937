"""The bake-tracker importer: exports of every generation (3.x, 4.x, whole or partial)
and catalog files into bakekit, in phases, one module each, over one ``State`` of plain
dicts and lists (the rows parsed, the references resolved, the ids written):

- ``detect``: read the JSON, tell exports and catalogs apart, refuse views and bt_mobile
  files (naming the call that takes them);
- ``parse``: each section of each generation into one normalised shape (``fields`` names
  what is read, the rest is listed);
- ``resolve``: duplicates, cycles, integer ids (file, remembered, natural fields);
- ``write``: table by table, set-based.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bakekit.errors import ValidationError
from bakekit.io._sync import Problems
from bakekit.io.bake_tracker.detect import read_file, refuse_other_files
from bakekit.io.bake_tracker.fields import CATALOGS, KNOWN, LEGACY_SECTIONS, SECTIONS
from bakekit.io.bake_tracker.parse import Parse
from bakekit.io.bake_tracker.resolve import Resolve
from bakekit.io.bake_tracker.write import Write, write_runs
from bakekit.results import ImportReport

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

__all__ = ["CATALOGS", "DUPLICATES", "KNOWN", "SECTIONS", "ZERO_PRICES", "import_bake_tracker",
           "read_file", "write_runs"]


class _Importer(Parse, Resolve, Write):
    """One import: parse every section, resolve references, then write table by table."""


DUPLICATES = ("refuse", "first", "last")
ZERO_PRICES = ("unknown", "zero")


def import_bake_tracker(ws: Workspace, path: str | Path | dict[str, Any], *,
                        duplicates: str = "refuse", zero_price: str = "unknown"
                        ) -> ImportReport:
    """Import a bake-tracker export (a path, or the parsed JSON object); see IO."""
    if duplicates not in DUPLICATES:
        raise ValidationError(f"duplicates: {duplicates!r} is not one of "
                              f"{', '.join(DUPLICATES)}", field="duplicates", value=duplicates)
    if zero_price not in ZERO_PRICES:
        raise ValidationError(f"zero_price: {zero_price!r} is not one of "
                              f"{', '.join(ZERO_PRICES)}", field="zero_price", value=zero_price)
    problems = Problems()
    if isinstance(path, dict):
        data: dict[str, Any] | None = path
        source = "<data>"
    else:
        data = read_file(path, problems)
        source = str(path)
    problems.raise_if_any(f"import of {source}")
    assert data is not None
    refuse_other_files(data, source)
    if not any(k in SECTIONS or k in LEGACY_SECTIONS for k in data):
        raise ValidationError(
            f"{source} holds no bake-tracker section (ingredients, products, purchases, "
            "inventory_items, recipes, ...): nothing to import; keys found: "
            f"{', '.join(sorted(map(str, data))[:10]) or 'none'}", field="file",
            value=source)
    imp = _Importer(ws, data, source, duplicates=duplicates, zero_price=zero_price)
    imp.parse()
    imp.load_current()
    imp.resolve()
    imp.problems.raise_if_any(f"import of {source}")
    imp.write()
    if imp.zero_prices:
        for entity in ("purchases", "inventory_items"):
            if imp.rows.get(entity):
                imp.tally.reason(entity, "a price of 0 read as not known yet "
                                         "(zero_price='unknown')")
    return imp.tally.report(unknown=imp.unknown, source=source, version=imp.version,
                            zero_prices=imp.zero_prices, identical_rows=imp.identical,
                            uncosted_lots=imp.uncosted_lots)
