"""Notebook helpers: the confirm panel for what-if plans, and stock plots."""

from bakekit.nb.confirm import ConfirmPanel, confirm, plot_summary

__all__ = ["ConfirmPanel", "confirm", "plot_summary"]
