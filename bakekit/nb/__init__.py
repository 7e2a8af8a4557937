"""Notebook helpers: the confirm panel for what-if plans, the review panel for
reconciliations, and stock plots."""

from bakekit.nb.confirm import ConfirmPanel, confirm, plot_summary
from bakekit.nb.plots import (
    display_names,
    plot_aging,
    plot_event_cost,
    plot_price_history,
    plot_usage,
    plot_value_over_time,
)
from bakekit.nb.review import ReviewPanel, review

__all__ = ["ConfirmPanel", "ReviewPanel", "confirm", "display_names", "plot_aging",
           "plot_event_cost", "plot_price_history", "plot_summary", "plot_usage",
           "plot_value_over_time", "review"]
