"""The confirm panel: a what-if plan's summary, a before/after plot, Commit and Discard."""

from __future__ import annotations

import html
import io
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from matplotlib.figure import Figure

from bakekit.errors import BakekitError, StalePlanError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from bakekit.plan import Plan


def plot_summary(summary: pd.DataFrame, *, title: str = "Stock before and after") -> Any:
    """A horizontal bar chart of stock before and after per touched item (a matplotlib Figure).

    >>> with bakery.what_if() as ws:
    ...     _ = ws.production.record("sugar-cookie", batches=1)
    >>> fig = plot_summary(ws.plan.summary())
    >>> type(fig).__name__
    'Figure'
    """
    fig = Figure(figsize=(7, 0.45 * max(len(summary), 2) + 1))
    ax = fig.subplots()
    if summary.empty:
        ax.text(0.5, 0.5, "nothing changes", ha="center", va="center")
        ax.set_axis_off()
        return fig
    labels = [f"{i} ({u})" for i, u in zip(summary["item"], summary["unit"], strict=True)]
    y = range(len(summary))
    ax.barh([v + 0.2 for v in y], summary["before"], height=0.4, label="before",
            color="#9bb7d4")
    ax.barh([v - 0.2 for v in y], summary["after"], height=0.4, label="after",
            color="#d4a373")
    ax.set_yticks(list(y), labels)
    ax.invert_yaxis()
    ax.set_xlabel("on hand (in each item's lot unit)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


class ConfirmPanel(widgets.VBox):
    """Review a plan and commit or discard it. Buttons are attributes, so tests click them."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.diff: pd.DataFrame | None = None
        self.applied_rows: pd.DataFrame | None = None
        summary = plan.summary()
        self.summary_table = widgets.HTML(
            summary.to_html(index=False, float_format=lambda v: f"{v:,.4g}")
            if not summary.empty else "<i>this plan changes no stock</i>")
        self.plot = widgets.Image(value=_png(plot_summary(summary)), format="png")
        self.commit_button = widgets.Button(description="Commit", button_style="success",
                                            icon="check")
        self.discard_button = widgets.Button(description="Discard", button_style="warning",
                                             icon="times")
        self.status = widgets.HTML(f"<b>{len(plan.operations)}</b> operation(s) previewed; "
                                   "nothing is written until you commit.")
        self.commit_button.on_click(self._on_commit)
        self.discard_button.on_click(self._on_discard)
        super().__init__([
            widgets.HTML("<h4>What-if plan</h4>"), self.summary_table, self.plot,
            widgets.HBox([self.commit_button, self.discard_button]), self.status,
        ])

    def _disable(self) -> None:
        self.commit_button.disabled = True
        self.discard_button.disabled = True

    def _on_commit(self, _button: Any = None) -> None:
        try:
            self.applied_rows = self.plan.apply()
        except StalePlanError as exc:
            self.diff = exc.diff
            self.status.value = (f"<b style='color:#b00'>Not committed</b>: "
                                 f"{html.escape(str(exc))}"
                                 + exc.diff.to_html(index=False))
            self._disable()
            return
        except BakekitError as exc:
            self.status.value = f"<b style='color:#b00'>Error</b>: {html.escape(str(exc))}"
            self._disable()
            return
        self.status.value = (f"<b style='color:#070'>Committed</b>: "
                             f"{len(self.applied_rows)} ledger row(s) written.")
        self._disable()

    def _on_discard(self, _button: Any = None) -> None:
        self.status.value = "Discarded: nothing was written."
        self._disable()


def confirm(plan: Plan) -> ConfirmPanel:
    """The confirm panel for a plan: summary table, before/after plot, Commit and Discard.

    >>> import bakekit.nb
    >>> with bakery.what_if() as ws:
    ...     _ = ws.production.record("chocolate-chip-cookie", batches=2)
    >>> panel = bakekit.nb.confirm(ws.plan)
    >>> panel.commit_button.description
    'Commit'
    """
    return ConfirmPanel(plan)
