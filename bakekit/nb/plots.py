"""Plots of the analyst reads (``ws.reports`` and ``levels``/``valuation`` over time).

Each function takes the DataFrame a read returned and gives back a matplotlib Figure (no
pyplot state), so a notebook shows it and a script can ``fig.savefig(...)`` it. Labels and
legends name things by their display names (``names``: slug -> name, e.g.
``display_names(ws)``; else the slug in words), money axes carry the currency, stacked bars
have headroom and a palette whose neighbours differ (``bakekit.display``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from bakekit.areas.catalog import Catalog
from bakekit.areas.events import Events
from bakekit.areas.recipes import Recipes
from bakekit.areas.reports import AGE_BUCKETS, TOTAL
from bakekit.display import HEADROOM, PALETTE, display_name, money_text
from bakekit.units import CURRENCY

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import Workspace

Names = Mapping[str, str] | None


def display_names(ws: Workspace) -> dict[str, str]:
    """What people call each thing, by slug: ingredients, products, finished units (their
    recipe's name) and packages (a few short reads).

    >>> display_names(ws)["flour-ap"]
    'All-purpose flour'
    """
    names: dict[str, str] = {}
    for frame, key in ((Catalog(ws).ingredients(), "item"), (Catalog(ws).products(), "item"),
                       (Events(ws).packages(), "package")):
        names.update({str(k): str(v) for k, v in zip(frame[key], frame["name"], strict=True)
                      if isinstance(v, str)})
    for r in Recipes(ws).recipes()[["finished_units", "name"]].itertuples(index=False):
        if isinstance(r.finished_units, str):
            for unit in r.finished_units.split(","):
                names.setdefault(unit.strip(), str(r.name))
    return names


def _money_axis(axis: Any, label: str) -> None:
    """An axis of money: its label says the currency, its ticks are money."""
    axis.set_label_text(f"{label} ({CURRENCY})")
    axis.set_major_formatter(FuncFormatter(lambda v, _: money_text(v)))


def _empty(fig: Figure, ax: Any, message: str) -> Figure:
    ax.text(0.5, 0.5, message, ha="center", va="center")
    ax.set_axis_off()
    return fig


def _stacked(fig: Figure, ax: Any, labels: list[str], table: pd.DataFrame,
             names: Names = None) -> None:
    """Bars of ``table``'s columns stacked at ``labels``, neighbouring colours distinct,
    the legend (display names) outside on the right, headroom above the tallest stack."""
    bottom = pd.Series(0.0, index=table.index)
    for n, column in enumerate(table.columns):
        ax.bar(labels, table[column], bottom=bottom, label=display_name(column, names),
               color=PALETTE[n % len(PALETTE)])
        bottom = bottom + table[column]
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    tallest = float(bottom.max()) if len(bottom) else 0.0
    ax.set_ylim(0, tallest * (1 + HEADROOM) if tallest > 0 else 1.0)


def plot_price_history(prices: pd.DataFrame, *, title: str = "Price per unit",
                       names: Names = None) -> Figure:
    """Price per unit over time, one panel per item, one line per product.

    >>> fig = plot_price_history(ws.reports.price_history("flour-ap"), names=display_names(ws))
    >>> fig.axes[0].get_title()
    'All-purpose flour (per lb)'
    """
    items = list(dict.fromkeys(prices["item"]))
    fig = Figure(figsize=(7, 2.6 * max(len(items), 1)))
    if not items:
        return _empty(fig, fig.subplots(), "no priced purchases")
    axes = fig.subplots(len(items), 1, squeeze=False)[:, 0]
    for ax, item in zip(axes, items, strict=True):
        rows = prices[prices["item"] == item]
        for n, (product, group) in enumerate(rows.groupby("product", sort=True)):
            ax.plot(group["purchased_on"], group["price_per_unit"], marker="o",
                    label=display_name(product, names), color=PALETTE[n % len(PALETTE)])
        ax.set_title(f"{display_name(item, names)} (per {rows['unit'].iloc[0]})")
        _money_axis(ax.yaxis, "price per unit")
        ax.legend(fontsize="small")
    fig.suptitle(title)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def plot_usage(usage: pd.DataFrame, *, value: str = "cost",
               title: str = "What left stock, per period", names: Names = None) -> Figure:
    """Usage per period as bars stacked by item (``value``: "cost", or "quantity" when the
    frame holds one item, since quantities of different items do not add up).

    >>> fig = plot_usage(ws.reports.usage())
    >>> fig.axes[0].get_ylabel()
    'cost ($)'
    """
    fig = Figure(figsize=(9, 4))
    ax = fig.subplots()
    if usage.empty:
        return _empty(fig, ax, "nothing left stock in this range")
    table = usage.pivot_table(index="period", columns="item", values=value, aggfunc="sum",
                              fill_value=0.0).sort_index()
    _stacked(fig, ax, [p.strftime("%Y-%m-%d") for p in table.index], table, names)
    if value == "cost":
        _money_axis(ax.yaxis, "cost")
    else:
        ax.set_ylabel(f"{value} ({usage['unit'].iloc[0]})")
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    return fig


def plot_aging(aging: pd.DataFrame, *, title: str = "Stock value by age",
               names: Names = None) -> Figure:
    """Stock value per ageing bucket ("0-30" ... "181+" days), stacked by item.

    >>> fig = plot_aging(ws.reports.aging(as_of="2025-12-31"))
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['0-30', '31-90', '91-180', '181+']
    """
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    if aging.empty:
        return _empty(fig, ax, "no stock")
    buckets = [label for _, label in AGE_BUCKETS]
    table = (aging.pivot_table(index="bucket", columns="item", values="value", aggfunc="sum",
                               fill_value=0.0).reindex(buckets, fill_value=0.0))
    _stacked(fig, ax, buckets, table, names)
    ax.set_xlabel("age (days)")
    _money_axis(ax.yaxis, "value at cost")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_event_cost(cost: pd.DataFrame, *, title: str = "What the event costs",
                    names: Names = None) -> Figure:
    """Per package, cost from stock and cost to buy as stacked horizontal bars.

    >>> fig = plot_event_cost(ws.reports.event_cost("Holidays 2025"), names=display_names(ws))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['Brownie lover', 'Classic cookies', 'Deluxe sampler']
    """
    rows = cost[cost["package"] != TOTAL]
    fig = Figure(figsize=(7, 0.5 * max(len(rows), 2) + 1.2))
    ax = fig.subplots()
    if rows.empty:
        return _empty(fig, ax, "no packages assigned")
    y = list(range(len(rows)))
    # an unknown cost (pd.NA: stock without a price) draws as no bar, never as 0
    from_stock = rows["cost_from_stock"].astype(float)
    ax.barh(y, from_stock, label="from stock", color=PALETTE[0])
    ax.barh(y, rows["cost_to_buy"].astype(float), left=from_stock.fillna(0), label="to buy",
            color=PALETTE[1])
    ax.set_yticks(y, [display_name(p, names) for p in rows["package"]])
    ax.invert_yaxis()
    _money_axis(ax.xaxis, "cost")
    widest = float((rows["cost_from_stock"].fillna(0) + rows["cost_to_buy"].fillna(0)).max())
    ax.set_xlim(0, widest * (1 + HEADROOM) if widest > 0 else 1.0)
    total = cost[cost["package"] == TOTAL]
    if not total.empty:
        whole = total["total_cost"].iloc[0]
        title = (f"{title}: {money_text(whole)} in all" if pd.notna(whole)
                 else f"{title}: total unknown (stock without a price)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_value_over_time(valuation_as_of: Callable[[Any], pd.DataFrame],
                         dates: Iterable[Any], *,
                         title: str = "Stock value at the end of each date") -> Figure:
    """The TOTAL of ``valuation(as_of=d)`` for each date ``d`` as a line (one read per date).

    >>> fig = plot_value_over_time(ws.inventory.valuation, ["2025-09-30", "2025-10-31"])
    >>> fig.axes[0].lines[0].get_ydata().round(2).tolist()
    [62.19, 104.93]
    """
    days = [pd.Timestamp(d) for d in dates]
    # an unknown total (stock without a price) is a gap in the line, never 0
    values = [float(v) if pd.notna(v := valuation_as_of(d.date()).iloc[-1]["value"])
              else float("nan") for d in days]
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    ax.plot(days, values, marker="o", color=PALETTE[0])
    _money_axis(ax.yaxis, "value at cost")
    ax.set_ylim(0, max([v for v in values if not math.isnan(v)] + [0.0]) * (1 + HEADROOM)
                or 1.0)
    ax.set_title(title)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
