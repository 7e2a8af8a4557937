"""The one rule for showing numbers and names to people: money with its currency sign and
cents, shares as percent, quantities plain, things by their display names. Frames stay
numeric; every display (the notebook panels, plan and result HTML, CLI tables, plots)
formats through here.

>>> money_text(1335.974), percent_text(0.1234), quantity_text(0.98684)
('$1,335.97', '12.3%', '0.99')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from bakekit.units import CURRENCY

#: frame columns that hold money (shown as money_text wherever a frame is shown to people)
MONEY_COLUMNS = frozenset({
    "cost", "total_cost", "per_unit_cost", "unit_cost", "value", "price", "old_price",
    "package_price", "price_per_unit", "estimated_cost", "cost_from_stock", "cost_to_buy",
    "known_cost", "variance_value", "package_cost", "old_unit_cost", "cost_preview",
    "cost_now", "value_preview", "value_now"})
#: frame columns that hold shares (fractions of one, shown as percent)
SHARE_COLUMNS = frozenset({"share"})
#: neighbours that differ: a qualitative palette (Okabe-Ito, then Tableau 10's darker half),
#: so adjacent stacks and lines never share a hue
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000", "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF")
#: headroom above the tallest bar or stack of a plot, as a share of it
HEADROOM = 0.12


def _missing(value: Any) -> bool:
    import pandas as pd  # here, so a command showing plain rows loads no pandas

    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def money_text(value: Any, *, signed: bool = False) -> str:
    """Money with its currency sign, thousands separated, and cents ("" when unknown).

    >>> money_text(13.506), money_text(-4.99333, signed=True), money_text(None)
    ('$13.51', '−$4.99', '')
    """
    if _missing(value):
        return ""
    cents = round(float(value), 2)
    sign = "−" if cents < 0 else ("+" if signed and cents > 0 else "")
    return f"{sign}{CURRENCY}{abs(cents):,.2f}"


def percent_text(share: Any, *, places: int = 1) -> str:
    """A share (a fraction of one) as percent.

    >>> percent_text(0.1234), percent_text(1.0), percent_text(0.0004)
    ('12.3%', '100.0%', '0.0%')
    """
    if _missing(share):
        return ""
    return f"{100.0 * float(share):,.{places}f}%"


def quantity_text(value: Any, *, signed: bool = False) -> str:
    """A quantity for people: whole numbers plain, others to 2 decimals (2 significant
    digits below 1), no trailing zeros.

    >>> quantity_text(3.0), quantity_text(0.98684), quantity_text(-24, signed=True)
    ('3', '0.99', '−24')
    """
    if _missing(value):
        return ""
    size = abs(float(value))
    if size >= 100:
        text = f"{size:,.0f}"
    elif size >= 1:
        text = f"{size:,.2f}".rstrip("0").rstrip(".")
    elif size == 0:
        text = "0"
    else:
        text = f"{size:.2g}"
    sign = "−" if value < 0 and text != "0" else ("+" if signed and text != "0" else "")
    return sign + text


def words(slug: str) -> str:
    """A slug as words: ``chocolate-chip-cookie`` -> ``chocolate chip cookie``."""
    return slug.replace("-", " ").replace("_", " ")


def display_name(slug: Any, names: Mapping[str, str] | None = None) -> str:
    """What people call a thing: its name from ``names`` (slug -> name), else the slug in
    words, capitalised.

    >>> display_name("flour-ap", {"flour-ap": "All-purpose flour"}), display_name("egg-wash")
    ('All-purpose flour', 'Egg wash')
    """
    text = str(slug)
    return (names or {}).get(text) or words(text).capitalize()


def cell_text(column: str, value: Any) -> str:
    """One frame cell as people read it: money, percent or a plain number by its column.

    >>> cell_text("total_cost", 6.7530465428), cell_text("share", 0.25), cell_text("on_hand", 2.5)
    ('$6.75', '25.0%', '2.5')
    """
    if column in MONEY_COLUMNS:
        return money_text(value)
    if column in SHARE_COLUMNS:
        return percent_text(value)
    if isinstance(value, float):
        return "" if math.isnan(value) else quantity_text(value)
    return "" if _missing(value) else str(value)


def formatters(columns: Any) -> dict[str, Any]:
    """``DataFrame.to_html``/``to_string`` formatters for a frame's money and share columns
    (the frame itself stays numeric).

    >>> import pandas as pd
    >>> pd.DataFrame({"item": ["a"], "cost": [2.0]}).to_string(
    ...     index=False, formatters=formatters(["item", "cost"])).split()
    ['item', 'cost', 'a', '$2.00']
    """
    return {c: (lambda v, c=c: cell_text(c, v)) for c in columns
            if c in MONEY_COLUMNS or c in SHARE_COLUMNS}


def frame_html(frame: Any) -> str:
    """A frame as an HTML table with money as money, shares as percent and quantities as
    ``quantity_text`` shows them.

    >>> "$6.75" in frame_html(pd.DataFrame({"total_cost": [6.7530465428]}))
    True
    """
    import pandas as pd

    shown = formatters(frame.columns)
    for column in frame.columns:
        if column not in shown and pd.api.types.is_float_dtype(frame[column]):
            shown[column] = quantity_text
    return str(frame.to_html(index=False, formatters=shown, na_rep=""))
