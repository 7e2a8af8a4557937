"""Plots of the analyst reads (``ws.reports`` and ``levels``/``valuation`` over time).

Each function takes the DataFrame a read returned and gives back a matplotlib Figure (no
pyplot state), so a notebook shows it and a script can ``fig.savefig(...)`` it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from bakekit.areas.reports import AGE_BUCKETS, TOTAL


def _empty(fig: Figure, ax: Any, message: str) -> Figure:
    ax.text(0.5, 0.5, message, ha="center", va="center")
    ax.set_axis_off()
    return fig


def _stacked(fig: Figure, ax: Any, labels: list[str], table: pd.DataFrame) -> None:
    """Bars of ``table``'s columns stacked at ``labels``, one colour per column (up to 20
    distinct), the legend outside on the right."""
    colors = colormaps["tab20"]
    bottom = pd.Series(0.0, index=table.index)
    for n, column in enumerate(table.columns):
        ax.bar(labels, table[column], bottom=bottom, label=str(column), color=colors(n % 20))
        bottom = bottom + table[column]
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.margins(y=0.05)


def plot_price_history(prices: pd.DataFrame, *, title: str = "Price per unit") -> Figure:
    """Price per unit over time, one panel per item, one line per product.

    >>> fig = plot_price_history(ws.reports.price_history("flour-ap"))
    >>> fig.axes[0].get_title()
    'flour-ap (per lb)'
    """
    items = list(dict.fromkeys(prices["item"]))
    fig = Figure(figsize=(7, 2.6 * max(len(items), 1)))
    if not items:
        return _empty(fig, fig.subplots(), "no priced purchases")
    axes = fig.subplots(len(items), 1, squeeze=False)[:, 0]
    for ax, item in zip(axes, items, strict=True):
        rows = prices[prices["item"] == item]
        for product, group in rows.groupby("product", sort=True):
            ax.plot(group["purchased_on"], group["price_per_unit"], marker="o",
                    label=str(product))
        ax.set_title(f"{item} (per {rows['unit'].iloc[0]})")
        ax.set_ylabel("price per unit")
        ax.legend(fontsize="small")
    fig.suptitle(title)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def plot_usage(usage: pd.DataFrame, *, value: str = "cost",
               title: str = "What left stock, per period") -> Figure:
    """Usage per period as bars stacked by item (``value``: "cost", or "quantity" when the
    frame holds one item, since quantities of different items do not add up).

    >>> fig = plot_usage(ws.reports.usage())
    >>> fig.axes[0].get_ylabel()
    'cost'
    """
    fig = Figure(figsize=(9, 4))
    ax = fig.subplots()
    if usage.empty:
        return _empty(fig, ax, "nothing left stock in this range")
    table = usage.pivot_table(index="period", columns="item", values=value, aggfunc="sum",
                              fill_value=0.0).sort_index()
    _stacked(fig, ax, [p.strftime("%Y-%m-%d") for p in table.index], table)
    ax.set_ylabel(value)
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    return fig


def plot_aging(aging: pd.DataFrame, *, title: str = "Stock value by age") -> Figure:
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
    _stacked(fig, ax, buckets, table)
    ax.set_xlabel("age (days)")
    ax.set_ylabel("value at cost")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_event_cost(cost: pd.DataFrame, *, title: str = "What the event costs") -> Figure:
    """Per package, cost from stock and cost to buy as stacked horizontal bars.

    >>> fig = plot_event_cost(ws.reports.event_cost("Holidays 2025"))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['brownie-lover', 'classic', 'deluxe']
    """
    rows = cost[cost["package"] != TOTAL]
    fig = Figure(figsize=(7, 0.5 * max(len(rows), 2) + 1.2))
    ax = fig.subplots()
    if rows.empty:
        return _empty(fig, ax, "no packages assigned")
    y = list(range(len(rows)))
    # an unknown cost (pd.NA: stock without a price) draws as no bar, never as 0
    from_stock = rows["cost_from_stock"].astype(float)
    ax.barh(y, from_stock, label="from stock", color="#9bb7d4")
    ax.barh(y, rows["cost_to_buy"].astype(float), left=from_stock.fillna(0), label="to buy",
            color="#d4a373")
    ax.set_yticks(y, list(rows["package"]))
    ax.invert_yaxis()
    ax.set_xlabel("cost")
    total = cost[cost["package"] == TOTAL]
    if not total.empty:
        whole = total["total_cost"].iloc[0]
        title = (f"{title}: {float(whole):.2f} in all" if pd.notna(whole)
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
    ax.plot(days, values, marker="o")
    ax.set_ylabel("value at cost")
    ax.set_title(title)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
