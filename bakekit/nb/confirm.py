"""The confirm panel: a what-if plan's summary in baker's words, Commit and Discard beside it,
a plot of each item's change, and a status that tells the truth about what was written."""

from __future__ import annotations

import html
import io
import threading
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd
from matplotlib.figure import Figure

from bakekit.areas.catalog import Catalog
from bakekit.areas.inventory import Inventory
from bakekit.display import display_name, money_text, quantity_text, words
from bakekit.errors import (
    BakekitError,
    InsufficientStockError,
    PlanAlreadyAppliedError,
    StalePlanError,
)
from bakekit.nb.plots import display_names
from bakekit.units import convert

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.plan import Plan

#: the plot is drawn at this many pixels per inch and shown at exactly its pixel size
PLOT_DPI = 100
_KIND_WORDS = {"ingredient": "ingredient", "finished_unit": "baked item",
               "finished_good": "assembled item"}
_RED, _GREEN = "#b3261e", "#1e6b35"


# -- words and numbers (the one rule: bakekit.display) --------------------------------------
_words = words


def _plural(words: str) -> str:
    """``cookie box`` -> ``cookie boxes``; words already plural stay as they are."""
    if words.endswith("s"):
        return words
    if words.endswith(("x", "ch", "sh")):
        return words + "es"
    if words.endswith("y") and words[-2:-1] not in "aeiou":
        return words[:-1] + "ies"
    return words + "s"


def _names(plan: Plan, densities: dict[str, float] | None = None) -> dict[str, str]:
    """What the baker calls each item: ingredient names and recipe names from the catalog
    (one short read), the slug in words where there is none. Ingredients' densities (grams
    per millilitre) go into ``densities`` if given."""
    names: dict[str, str] = {}
    try:
        if plan.bakery is None:
            return names
        with plan.bakery.session() as ws:
            names.update(display_names(ws))
            if densities is not None:
                ingredients = Catalog(ws).ingredients()
                densities.update({str(k): float(v) for k, v in zip(
                    ingredients["item"], ingredients["g_per_ml"], strict=True)
                    if not pd.isna(v)})
    except BakekitError:  # a name is a nicety: the slug in words will do
        pass
    return names


def _name(names: dict[str, str], slug: str) -> str:
    return display_name(slug, names)


def describe_operations(plan: Plan, names: dict[str, str] | None = None) -> str:
    """The plan's write calls in a baker's words, e.g. "2 batches of chocolate chip cookies".

    >>> with bakery.what_if() as ws:
    ...     _ = ws.production.record("chocolate-chip-cookie", batches=2)
    >>> describe_operations(ws.plan)
    '2 batches of chocolate chip cookies'
    """
    return _describe(plan.steps, _names(plan) if names is None else names)


def _describe(operations: Sequence[Any], names: dict[str, str]) -> str:
    parts = []
    for op in operations:
        args = list(op.args)
        kwargs = dict(op.kwargs)
        first = str(args[0]) if args else ""
        what = _name(names, first).lower() if first else ""
        if (op.area, op.method) == ("production", "record"):
            batches = kwargs.get("batches", args[1] if len(args) > 1 else 1)
            count = quantity_text(float(_plain(batches)))
            noun = "batch" if count == "1" else "batches"
            parts.append(f"{count} {noun} of {_plural(what)}")
        elif (op.area, op.method) == ("assembly", "record"):
            amount = quantity_text(float(_plain(kwargs.get("quantity", 1))))
            parts.append(f"{amount} {what if amount == '1' else _plural(what)} assembled")
        elif (op.area, op.method) == ("inventory", "purchase"):
            packages = quantity_text(float(_plain(kwargs.get("packages", 1))))
            parts.append(f"bought {packages} × {what}")
        elif (op.area, op.method) == ("io", "apply_reconciliation"):
            recorded = _plain(args[0] if args else kwargs.get("reconciliation"))
            inner = recorded.get("__reconciliation__", {}) if isinstance(recorded, dict) else {}
            rows = inner.get("frame", {}).get("__frame__", {})
            columns = list(rows.get("columns", []))
            writes = (sum(1 for r in rows.get("data", []) if r[columns.index("status")]
                          in ("new", "changed")) if "status" in columns else 0)
            parts.append(f"the {_words(str(inner.get('kind', 'reviewed')))} review: "
                         f"{writes} row{'s' if writes != 1 else ''} written")
        elif (op.area, op.method) == ("inventory", "set_price") and args:
            parts.append(f"a late price for purchase {args[0]}")
        elif (op.area, op.method) == ("inventory", "consume") and len(args) >= 3:
            parts.append(f"used {quantity_text(float(_plain(args[1])))} {args[2]} of {what}")
        else:
            parts.append(f"{_words(op.method)} ({_words(op.area)})"
                         + (f" {what}" if what else ""))
    return ", ".join(parts) if parts else "nothing"


def _plain(value: Any) -> Any:
    """A recorded argument back to a number (Decimals are recorded as text)."""
    if isinstance(value, dict) and "__decimal__" in value:
        return value["__decimal__"]
    return value


def in_label_order(summary: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The summary's rows in the order of the names they are shown by (not their slugs)."""
    labels = summary["item"].map(lambda slug: _name(names, str(slug)).casefold())
    return summary.iloc[labels.argsort(kind="stable")].reset_index(drop=True)


#: the summary's "before" column as the panel's state makes it true
BEFORE_HEADERS = {None: "On hand now", "committed": "On hand before",
                  "refused": "On hand at preview", "failed": "On hand at preview",
                  "discarded": "On hand now"}


def _summary_html(summary: pd.DataFrame, names: dict[str, str], *,
                  before: str = BEFORE_HEADERS[None], after: str = "After") -> str:
    if summary.empty:
        return "<i>This plan changes no stock.</i>"
    head = "".join(f"<th style='text-align:{a};padding:2px 8px'>{h}</th>" for h, a in [
        ("Item", "left"), (before, "right"), ("Change", "right"),
        (after, "right"), ("Value of the change", "right")])
    body = []
    for r in in_label_order(summary, names).itertuples(index=False):
        unit = html.escape(str(r.unit))
        colour = _RED if r.change < 0 else _GREEN
        kind = _KIND_WORDS.get(str(r.kind), "")
        cells = [
            f"<td style='padding:2px 8px'>{html.escape(_name(names, str(r.item)))}"
            f" <span style='color:#777;font-size:85%'>{kind}</span></td>",
            f"<td style='text-align:right;padding:2px 8px'>{quantity_text(r.before)} {unit}</td>",
            f"<td style='text-align:right;padding:2px 8px;color:{colour}'>"
            f"{quantity_text(r.change, signed=True)} {unit}</td>",
            f"<td style='text-align:right;padding:2px 8px'>{quantity_text(r.after)} {unit}</td>",
            f"<td style='text-align:right;padding:2px 8px'>"
            f"{money_text(r.cost, signed=True)}</td>",
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    used = -summary.loc[summary["change"] < 0, "cost"].fillna(0).sum()
    made = summary.loc[summary["change"] > 0, "cost"].fillna(0).sum()
    foot = f"Uses {money_text(used)} of stock" + (
        f"; adds {money_text(made)} of goods" if made else "") + "."
    return (f"<table class='bakekit-summary' style='border-collapse:collapse'>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<div style='margin-top:4px'>{foot}</div>")


# -- the plot -------------------------------------------------------------------------------
def plot_summary(summary: pd.DataFrame, *, title: str = "Change in stock",
                 names: dict[str, str] | None = None) -> Any:
    """Each touched item's change as a share of its stock before (so lb, oz and each read
    on one axis), labelled with the change in its own unit (a matplotlib Figure).

    >>> with bakery.what_if() as ws:
    ...     _ = ws.production.record("sugar-cookie", batches=1)
    >>> fig = plot_summary(ws.plan.summary())
    >>> type(fig).__name__
    'Figure'
    """
    names = names or {}
    rows = max(len(summary), 2)
    fig = Figure(figsize=(6.4, 0.34 * rows + 0.9), dpi=PLOT_DPI)
    ax = fig.subplots()
    if summary.empty:
        ax.text(0.5, 0.5, "nothing changes", ha="center", va="center")
        ax.set_axis_off()
        return fig
    shares, labels, notes = [], [], []
    summary = in_label_order(summary, names)
    for r in summary.itertuples(index=False):
        change = f"{quantity_text(r.change, signed=True)} {r.unit}"
        if r.before > 0:
            share = 100.0 * r.change / r.before
            percent = (f"{'−' if share < 0 else '+'}{abs(share):,.0f}%" if abs(share) >= 1
                       else "under 1%")
            notes.append(f"{change} ({percent})")
        else:
            share = 100.0 if r.change > 0 else -100.0
            notes.append(f"{change} (new)" if r.change > 0 else change)
        shares.append(max(-100.0, min(100.0, share)))
        labels.append(_name(names, str(r.item)))
    y = list(range(len(summary)))
    colours = [_RED if s < 0 else _GREEN for s in shares]
    ax.barh(y, shares, height=0.6, color=colours)
    for yi, share, note in zip(y, shares, notes, strict=True):
        # the label sits on the empty side of zero, so it never runs off the axis
        ax.text(3 if share < 0 else -3, yi, note, va="center",
                ha="left" if share < 0 else "right", fontsize=8)
    ax.set_yticks(y, labels, fontsize=9)
    ax.invert_yaxis()
    ax.axvline(0, color="#444", linewidth=0.8)
    ax.set_xlim(-105, 105)
    ax.set_xticks([-100, -50, 0, 50, 100], ["−100%", "−50%", "0", "+50%", "+100%"],
                  fontsize=8)
    ax.set_xlabel("change, as a share of what is on hand now", fontsize=9)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def _png(fig: Any) -> tuple[bytes, int, int]:
    """The figure as PNG bytes and its size in pixels."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PLOT_DPI)
    width, height = (int(round(v)) for v in fig.get_size_inches() * PLOT_DPI)
    return buffer.getvalue(), width, height


# -- the panel ------------------------------------------------------------------------------
class ConfirmPanel(widgets.VBox):
    """Review a plan and commit or discard it. Buttons are attributes, so tests click them.

    The panel decides once: the first Commit or Discard settles it (under a lock, before
    any work); later clicks change nothing and the status keeps telling the first outcome.
    """

    def __init__(self, plan: Plan, *, check: Callable[[], str | None] | None = None,
                 settled: Callable[[str], None] | None = None):
        self.plan = plan
        #: asked right before Commit applies: a reason to refuse (nothing written), or None
        self._check = check
        #: told each outcome once it shows (e.g. the review panel that made this one)
        self._settled = settled
        self.diff: pd.DataFrame | None = None
        self.applied_rows: pd.DataFrame | None = None
        #: None until decided, then "committed", "discarded", "refused" or "failed"
        self.outcome: str | None = None
        #: the fresh panel "Preview again" made, if any
        self.again: ConfirmPanel | None = None
        self._decision: str | None = None
        self._anyway = False
        self._lock = threading.Lock()
        self._densities: dict[str, float] = {}
        self._names = _names(plan, self._densities)
        self._what = describe_operations(plan, self._names)
        summary = plan.summary()
        self._summary = summary
        self.summary_table = widgets.HTML(_summary_html(summary, self._names))
        png, width, height = _png(plot_summary(summary, names=self._names))
        self.plot = widgets.Image(value=png, format="png", width=str(width), height=str(height),
                                  layout=widgets.Layout(width=f"{width}px", height=f"{height}px",
                                                        max_width="none", object_fit="none"))
        self.commit_button = widgets.Button(description="Commit", button_style="success",
                                            icon="check", tooltip="write this plan")
        self.discard_button = widgets.Button(description="Discard", button_style="warning",
                                             icon="times", tooltip="write nothing")
        self.commit_anyway_button = widgets.Button(
            description="Commit anyway (only stock moved)", button_style="danger",
            icon="check", tooltip="the same writes as previewed; only the stock on hand moved",
            layout=widgets.Layout(display="none", width="auto"))
        self.commit_anyway_button.on_click(self._on_commit_anyway)
        self.preview_again_button = widgets.Button(
            description="Preview again", icon="refresh",
            tooltip="make this plan again with today's stock",
            layout=widgets.Layout(display="none"))
        self.status = widgets.HTML("Nothing is written until you press Commit.",
                                   layout=widgets.Layout(max_width="360px"))
        self.commit_button.on_click(self._on_commit)
        self.discard_button.on_click(self._on_discard)
        self.preview_again_button.on_click(self._on_preview_again)
        controls = widgets.VBox(
            [widgets.HBox([self.commit_button, self.discard_button]), self.status,
             self.commit_anyway_button, self.preview_again_button],
            layout=widgets.Layout(margin="0 0 0 16px", min_width="320px"))
        self.header = widgets.HTML(f"<h4 style='margin:4px 0'>Plan: {html.escape(self._what)}"
                                   "</h4>")
        super().__init__([
            self.header,
            widgets.HBox([self.summary_table, controls],
                         layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start")),
            self.plot,
        ])
        if plan.applied:  # committed elsewhere before the panel was made
            self._settle("already")
            self.outcome = "committed"
            self.status.value = ("<b>Already committed</b> earlier: this panel writes nothing "
                                 "more.")

    # -- deciding once ------------------------------------------------------------------------
    def _settle(self, choice: str) -> bool:
        """Take the decision if nobody has: True for the first caller only. The buttons are
        greyed at once, before any work."""
        with self._lock:
            if self._decision is not None:
                return False
            self._decision = choice
        self.commit_button.disabled = True
        self.discard_button.disabled = True
        return True

    def _on_commit(self, _button: Any = None) -> None:
        if not self._settle("commit"):
            return
        self.status.value = "Committing…"
        reason = self._check() if self._check is not None else None
        if reason is not None:
            self._show("refused", f"<b style='color:{_RED}'>Not committed</b>: "
                                  f"{html.escape(reason)} Nothing was written.")
            return
        self._apply(allow_drift=False)

    def _on_commit_anyway(self, _button: Any = None) -> None:
        """After a refusal for drift alone: apply the same writes, stock moved or not."""
        with self._lock:
            if self._decision != "commit" or self.outcome != "refused" or self._anyway:
                return
            self._anyway = True
        self.commit_anyway_button.disabled = True
        self.status.value = "Committing…"
        self._apply(allow_drift=True)

    def _show(self, outcome: str, status: str) -> None:
        """Settle the outcome: the status, the header and the table's "before" say it."""
        self.outcome = outcome
        self.status.value = status
        verb = {"committed": "Committed", "refused": "Not committed", "failed": "Not committed",
                "discarded": "Discarded"}.get(outcome, "Plan")
        self.header.value = (f"<h4 style='margin:4px 0'>{verb}: {html.escape(self._what)}"
                             "</h4>")
        after = "Now" if outcome == "committed" else "After"
        self.summary_table.value = _summary_html(self._summary, self._names,
                                                 before=BEFORE_HEADERS.get(outcome, "Before"),
                                                 after=after)
        if self._settled is not None:
            self._settled(outcome)

    def _apply(self, *, allow_drift: bool) -> None:
        self.commit_anyway_button.layout.display = "none"
        try:
            rows = self.plan.apply(allow_drift=allow_drift)
        except StalePlanError as exc:
            self.diff = exc.diff
            self._show("refused", self._refusal_html(exc.diff))
            self.preview_again_button.layout.display = None
            if set(exc.diff["status"]) == {"drift"} and not allow_drift:
                self.commit_anyway_button.layout.display = None
            return
        except PlanAlreadyAppliedError:
            self.outcome = "committed"
            self.status.value = ("<b>Not committed by this panel</b>: the plan had already been "
                                 "committed earlier, so nothing more was written.")
            return
        except BakekitError as exc:
            self._show("failed", f"<b style='color:{_RED}'>Not committed</b>: "
                                 f"{html.escape(str(exc))}. Nothing was written.")
            self.preview_again_button.layout.display = None
            return
        except Exception as exc:
            if self.plan.applied:  # the database committed; only what came after failed
                self.outcome = "committed"
                self.status.value = (f"<b style='color:{_GREEN}'>Committed</b>: {self._what} "
                                     f"(then an error: {html.escape(str(exc))}).")
            else:
                self.outcome = "failed"
                self.status.value = (f"<b style='color:{_RED}'>Not committed</b>: an "
                                     f"unexpected error ({html.escape(type(exc).__name__)}: "
                                     f"{html.escape(str(exc))}). The database rolled it back: "
                                     "nothing was written.")
            raise
        self.applied_rows = rows
        changes = len(rows)
        self._show("committed", f"<b style='color:{_GREEN}'>Committed</b>: "
                                f"{html.escape(self._what)}, {changes} stock "
                                f"change{'s' if changes != 1 else ''}.")
        self.preview_again_button.layout.display = "none"

    def _on_discard(self, _button: Any = None) -> None:
        if not self._settle("discard"):
            return
        self._show("discarded", "<b>Discarded</b>: nothing was written.")

    # -- a refusal and the way forward --------------------------------------------------------
    def _refusal_html(self, diff: pd.DataFrame) -> str:
        lines = []
        for r in diff[diff["status"] == "drift"].itertuples(index=False):
            lines.append(f"{html.escape(_name(self._names, str(r.item)))}: "
                         f"{quantity_text(r.quantity_preview)} {html.escape(str(r.unit))} on "
                         f"hand when you previewed, {quantity_text(r.quantity_now)} "
                         f"{html.escape(str(r.unit))} now.")
        rows = diff[diff["status"].isin(["changed", "missing", "extra"])]
        for item, group in rows.groupby("item", sort=False):
            name = html.escape(_name(self._names, str(item)))
            if set(group["status"]) == {"changed"} and (
                    (group["quantity_preview"] - group["quantity_now"]).abs() < 1e-6).all():
                lines.append(f"{name}: the same amount, at a different cost "
                             f"({money_text(-group['cost_preview'].sum())} then, "
                             f"{money_text(-group['cost_now'].sum())} now).")
            else:
                lines.append(f"{name}: would now come from other stock than you previewed.")
        for r in diff[diff["status"] == "failed"].itertuples(index=False):
            step = int(r.step) if not pd.isna(r.step) else 0
            ops = self.plan.steps
            what = (_describe(ops[step - 1:step], self._names)
                    if 0 < step <= len(ops) else "a step")
            moved = self._moved_lines()
            if moved:
                lines.extend(moved)
                lines.append(f"{html.escape(what.capitalize())} can no longer be done with "
                             "today's stock.")
            else:
                reason = str(r.message).split(": ", 1)[-1].split("; ")[0]
                lines.append(f"{html.escape(what.capitalize())} can no longer be done: "
                             f"{html.escape(reason)}.")
        items = "".join(f"<li>{line}</li>" for line in lines)
        anyway = (" Or, since only the stock on hand moved and the plan would write exactly "
                  "what you previewed, press <b>Commit anyway (only stock moved)</b>."
                  if set(diff["status"]) == {"drift"} else "")
        return (f"<b style='color:{_RED}'>Not committed</b>: stock moved since this preview, "
                "so the numbers above are no longer true."
                f"<ul style='margin:4px 0;padding-left:18px'>{items}</ul>"
                "Nothing was written. Press <b>Preview again</b> to see this plan with "
                f"today's stock.{anyway}")

    def _moved_lines(self) -> list[str]:
        """Touched items whose stock on hand differs from the preview's (one read; the
        replay that failed wrote nothing), in words."""
        if self.plan.bakery is None:
            return []
        try:
            with self.plan.bakery.session() as ws:
                lots = Inventory(ws).lots()
        except BakekitError:
            return []
        now = lots.groupby(["item", "kind", "unit"])["remaining"].sum()
        lines = []
        for r in self.plan.summary().itertuples(index=False):
            held = float(now.get((r.item, r.kind, r.unit), 0.0))
            if abs(held - r.before) > 1e-6 * max(1.0, abs(r.before)):
                unit = html.escape(str(r.unit))
                lines.append(f"{html.escape(_name(self._names, str(r.item)))}: "
                             f"{quantity_text(r.before)} {unit} on hand when you previewed, "
                             f"{quantity_text(held)} {unit} now.")
        return lines

    def _short_words(self, exc: BakekitError) -> str:
        """What is short, in the item's own words, or the error's message."""
        availability = getattr(exc, "availability", None)
        frame = getattr(availability, "frame", None)
        if isinstance(exc, InsufficientStockError) and isinstance(frame, pd.DataFrame):
            short = frame[frame["shortfall"] > 0]
            if not short.empty:
                return "not enough " + ", ".join(
                    f"{_name(self._names, str(r.item))} (short "
                    f"{self._in_panel_unit(str(r.item), float(r.shortfall), str(r.unit))})"
                    for r in short.itertuples(index=False)) + "."
        return str(exc)

    def _in_panel_unit(self, item: str, quantity: float, unit: str) -> str:
        """A quantity in the unit the summary shows for the item (a recipe may speak cups
        where the stock is in ounces), as it was if there is no way to convert."""
        summary = self.plan.summary()
        shown = summary.loc[summary["item"] == item, "unit"]
        if not shown.empty and shown.iloc[0] != unit:
            density = self._densities.get(item)
            try:
                quantity = float(convert(quantity, unit, str(shown.iloc[0]), item=item,
                                         g_per_ml=None if density is None
                                         else Decimal(str(density))))
                unit = str(shown.iloc[0])
            except BakekitError:
                pass
        return f"{quantity_text(quantity)} {unit}"

    def _on_preview_again(self, _button: Any = None) -> None:
        if self.again is not None:
            return
        self.preview_again_button.disabled = True
        try:
            fresh = _preview_again(self.plan)
        except BakekitError as exc:
            self.preview_again_button.disabled = False
            self.status.value += (f"<div style='color:{_RED}'>This plan cannot be made with "
                                  f"today's stock: {html.escape(self._short_words(exc))}</div>")
            return
        self.again = ConfirmPanel(fresh)
        self.children = (*tuple(self.children), widgets.HTML(  # type: ignore[has-type]
            "<hr><b>Previewed again with today's stock:</b>"), self.again)


def _preview_again(plan: Plan) -> Plan:
    """Run a plan's operations again as a fresh what-if (nothing is written): a new plan."""
    return plan.preview_again()


def confirm(plan: Plan, *, check: Callable[[], str | None] | None = None) -> ConfirmPanel:
    """The confirm panel for a plan: summary table with Commit and Discard beside it, and a
    plot of each item's change.

    >>> import bakekit.nb
    >>> with bakery.what_if() as ws:
    ...     _ = ws.production.record("chocolate-chip-cookie", batches=2)
    >>> panel = bakekit.nb.confirm(ws.plan)
    >>> panel.commit_button.description
    'Commit'
    """
    return ConfirmPanel(plan, check=check)
