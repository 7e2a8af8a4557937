"""Notebook helpers: the confirm panel for what-if plans, and stock plots."""

from bakekit.nb.confirm import ConfirmPanel, confirm, plot_summary
from bakekit.nb.plots import (
    plot_aging,
    plot_event_cost,
    plot_price_history,
    plot_usage,
    plot_value_over_time,
)

__all__ = ["ConfirmPanel", "confirm", "plot_aging", "plot_event_cost", "plot_price_history",
           "plot_summary", "plot_usage", "plot_value_over_time"]
