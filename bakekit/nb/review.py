"""The review panel: a reconciliation row by row, as OpenRefine's reconciliation shows it.

Rows are grouped and filtered by status (with counts); a fuzzy, missing or conflicting
row offers its candidates with their scores (rapidfuzz), "new" where the apply can create
the thing, and "skip". A fuzzy match is never accepted for the analyst: such rows start
``undecided``, with an "accept all above score N" action. Every choice is written into
``reconciliation.frame`` (a ``choice`` column and the row's status and match), so code and
widget agree. "Preview" runs the apply as a what-if and shows it in the confirm panel;
Commit applies that plan under the replay and drift rules of every plan, and a review the
database has moved on from is refused with nothing written.
"""

from __future__ import annotations

import contextlib
import html
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd
from rapidfuzz import fuzz, process
from sqlalchemy import Float, cast, func, select

from bakekit.db import tables
from bakekit.display import display_name, money_text, quantity_text
from bakekit.errors import BakekitError, ValidationError
from bakekit.nb.confirm import ConfirmPanel
from bakekit.results import ImportReport, Reconciliation

if TYPE_CHECKING:  # pragma: no cover
    from bakekit.operations import BakeryLike, Workspace

#: rows shown per page (thousands of rows stay responsive: only a page has widgets)
PAGE_SIZE = 25
#: candidates offered per row
TOP = 5
#: the frame column holding the analyst's choice
CHOICE = "choice"
#: choices: the review's own judgement, not yet decided, a candidate, new, skip
AS_REVIEWED, UNDECIDED, MATCH, NEW, SKIP = "as reviewed", "undecided", "match", "new", "skip"
#: statuses the apply writes
WRITES = ("new", "changed")
#: the column naming the matched thing, per kind
MATCH_COLUMN = {"prices": "match", "purchases": "product", "inventory_count": "item"}
#: the order statuses are listed in
STATUS_ORDER = ("undecided", "conflict", "missing", "new", "changed", "unchanged", "skipped",
                "invalid")
_RED, _GREEN, _GREY = "#b3261e", "#1e6b35", "#777"


def _given(value: Any) -> bool:
    return value is not None and not (pd.api.types.is_scalar(value) and pd.isna(value))


class ReviewPanel(widgets.VBox):
    """The review of a reconciliation; its controls are attributes, so tests drive them.

    ``choose(row, value)`` is what a row's dropdown does (a candidate's slug, ``"new"``,
    ``"skip"``, ``"undecided"`` or ``"as reviewed"``); ``accept_above(score)`` what the
    accept button does; ``preview()`` what Preview does (it returns the confirm panel).
    """

    def __init__(self, reconciliation: Reconciliation, *, bakery: BakeryLike | None = None,
                 page_size: int = PAGE_SIZE, top: int = TOP):
        self.reconciliation = reconciliation
        self.kind = reconciliation.kind
        #: where the panel reads, previews and commits (a Bakery: its workspaces have io)
        self.bakery: Any = bakery if bakery is not None else _bakery_of(reconciliation)
        self.frame: pd.DataFrame = reconciliation.frame  # the same object: edited in place
        self.page_size, self.top, self.page = page_size, top, 0
        self.confirm_panel: ConfirmPanel | None = None
        self.report: ImportReport | None = None
        self._lock = threading.Lock()
        self._candidates: dict[int, list[tuple[str, str, float]]] = {}
        #: the rows on the page, their label and dropdown; which rows those are
        self._shown: dict[int, tuple[widgets.HTML, widgets.Dropdown]] = {}
        self._page_key: tuple[Any, ...] | None = None
        with self._reading() as ws:
            self._things = _things(ws, self.kind)
            self._fingerprint = fingerprint(ws, self.kind)
        self._names = dict(zip(self._things["slug"], self._things["label"], strict=True))
        # the review's own judgement, row by row, kept with the reconciliation (a second
        # panel on it sees the first one's choices, and the judgement they started from)
        reviewed = reconciliation.__dict__.get("_reviewed_by_bakekit")
        if reviewed is None:
            reviewed = self.frame.drop(columns=[CHOICE], errors="ignore").copy()
            reconciliation.__dict__["_reviewed_by_bakekit"] = reviewed
        self.reviewed: pd.DataFrame = reviewed
        if CHOICE not in self.frame.columns:
            self.frame[CHOICE] = [self._first_choice(status, score) for status, score in zip(
                self.frame["status"], self.frame.get("score", [None] * len(self.frame)),
                strict=True)]
            fuzzy = self.frame[CHOICE] == UNDECIDED
            if fuzzy.any():
                self.frame.loc[fuzzy, "status"] = UNDECIDED
                self.frame.loc[fuzzy, "message"] = [
                    f"proposed {self._label(m)} at score {s:.0f}: choose or accept"
                    for m, s in zip(self.reviewed.loc[fuzzy, "match"],
                                    self.reviewed.loc[fuzzy, "score"], strict=True)]
        # -- widgets
        self.title = widgets.HTML()
        self.filter = widgets.ToggleButtons(options=[("All", "all")], value="all",
                                            style={"button_width": "auto"})
        self.filter.observe(lambda _: self._go(0), names="value")
        self.threshold = widgets.BoundedFloatText(value=95.0, min=0.0, max=100.0, step=1.0,
                                                  description="score ≥",
                                                  layout=widgets.Layout(width="150px"))
        self.accept_button = widgets.Button(description="Accept all undecided above score",
                                            icon="check-square-o",
                                            layout=widgets.Layout(width="auto"))
        self.accept_button.on_click(lambda _: self.accept_above(self.threshold.value))
        self.rows_box = widgets.VBox()
        self.previous_button = widgets.Button(description="Previous", icon="chevron-left")
        self.next_button = widgets.Button(description="Next", icon="chevron-right")
        self.previous_button.on_click(lambda _: self._go(self.page - 1))
        self.next_button.on_click(lambda _: self._go(self.page + 1))
        self.page_label = widgets.HTML()
        self.preview_button = widgets.Button(description="Preview", button_style="info",
                                             icon="eye", tooltip="what apply would write")
        self.preview_button.on_click(lambda _: self.preview())
        self.status = widgets.HTML("Nothing is written until you preview and commit.")
        self.preview_box = widgets.VBox()
        accept = [self.threshold, self.accept_button] if self.kind == "prices" else []
        super().__init__([
            self.title, self.filter, widgets.HBox(accept),
            self.rows_box,
            widgets.HBox([self.previous_button, self.page_label, self.next_button]),
            widgets.HBox([self.preview_button, self.status]), self.preview_box])
        self._refresh()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Any]:
        """Where the panel reads: the reconciliation's own workspace while it is open (the
        caller's unit of work, its uncommitted writes seen, no second transaction waiting on
        its lock), else a workspace of its own, rolled back."""
        ws = getattr(self.reconciliation._area, "_ws", None)
        if ws is not None and not ws.closed:
            yield ws
            return
        with self.bakery.session() as own:
            yield own

    # -- the rows' choices --------------------------------------------------------------------
    def _first_choice(self, status: Any, score: Any) -> str:
        """A fuzzy price match starts undecided; every other row as the review judged it."""
        if (self.kind == "prices" and status in ("new", "changed", "unchanged")
                and _given(score) and float(score) < 100):
            return UNDECIDED
        return AS_REVIEWED

    def options(self, row: int) -> list[tuple[str, str]]:
        """A row's choices as (label, value): as reviewed or undecided, its candidates with
        their scores, new where the apply can create it, skip."""
        r = self.reviewed.loc[row]
        if r["status"] == "invalid":
            return [("Invalid: " + str(r["message"]), AS_REVIEWED)]
        first = self._first_choice(r["status"], r.get("score"))
        out = [("Undecided", UNDECIDED) if first == UNDECIDED
               else (f"As reviewed: {r['status']}", AS_REVIEWED)]
        for slug, label, score in self.candidates(row):
            out.append((f"Match: {label} · score {score:.0f}", slug))
        if self._can_be_new(row):
            out.append(("New purchase" if self.kind == "purchases" else "New", NEW))
        out.append(("Skip", SKIP))
        return out

    def value(self, row: int) -> str:
        """A row's choice as its dropdown shows it."""
        choice = str(self.frame.at[row, CHOICE])
        if choice == MATCH:
            return str(self.frame.at[row, MATCH_COLUMN[self.kind]])
        return choice

    def candidates(self, row: int) -> list[tuple[str, str, float]]:
        """The top few things a row could be (slug, label, score): the review's own match
        first with its score, then rapidfuzz's best of the rest (computed once a row)."""
        if row in self._candidates:
            return self._candidates[row]
        column = MATCH_COLUMN.get(self.kind)
        r = self.reviewed.loc[row]
        found: list[tuple[str, str, float]] = []
        if (column is None or r["status"] == "invalid" or self._things.empty
                or (self.kind != "prices" and r["status"] not in ("missing", "conflict"))):
            self._candidates[row] = found
            return found
        proposed = r[column] if _given(r[column]) else None
        if self.kind == "prices" and proposed is not None and _given(r.get("score")):
            found.append((str(proposed), self._label(proposed), float(r["score"])))
        # a price list's names against brand, name and ingredient; a key against keys
        by_text = self.kind == "prices"
        best = process.extract(_query(self.kind, r),
                               self._things["text" if by_text else "slug"].tolist(),
                               scorer=fuzz.token_set_ratio if by_text else fuzz.ratio,
                               processor=str.lower, limit=self.top + 1)
        for _, score, i in best:
            slug = str(self._things["slug"].iloc[i])
            if all(slug != f[0] for f in found) and (self.kind == "prices"
                                                    or slug != proposed
                                                    or r["status"] == "missing"):
                found.append((slug, self._label(slug), float(score)))
        self._candidates[row] = found[:self.top]
        return self._candidates[row]

    def _can_be_new(self, row: int) -> bool:
        """"New" is offered where the apply can create the thing: a purchase of a known
        product (a price list cannot create a product: add it, then review again)."""
        r = self.reviewed.loc[row]
        return (self.kind == "purchases" and r["status"] != "new"
                and str(r["product"]) in self._names)

    def _label(self, slug: Any) -> str:
        return display_name(slug, self._names)

    def choose(self, row: int, value: str) -> None:
        """Make a row's choice (what its dropdown does) and write it into the frame."""
        self._choose(row, value)
        self._refresh()

    def _choose(self, row: int, value: str) -> None:
        if self.confirm_panel is not None and self.confirm_panel.outcome == "committed":
            raise ValidationError("this review has been committed; reconcile again for a new "
                                  "one", field="row", value=row)
        if row not in self.frame.index:
            raise ValidationError(f"row: {row!r} is not a row of this review", field="row",
                                  value=row)
        allowed = {v for _, v in self.options(row)}
        if value not in allowed:
            raise ValidationError(f"row {row}: {value!r} is not one of its choices "
                                  f"({', '.join(sorted(allowed))})", field="choice", value=value)
        reviewed = self.reviewed.loc[row]
        f = self.frame
        for column in self.reviewed.columns:  # start again from the review's judgement
            f.at[row, column] = reviewed[column]
        if value == AS_REVIEWED:
            f.at[row, CHOICE] = AS_REVIEWED
        elif value == UNDECIDED:
            f.at[row, CHOICE] = UNDECIDED
            f.at[row, "status"] = UNDECIDED
            f.at[row, "message"] = "undecided: choose a match, or skip"
        elif value == SKIP:
            f.at[row, CHOICE], f.at[row, "status"] = SKIP, "skipped"
            f.at[row, "message"] = "skipped by you: nothing is written for this row"
        elif value == NEW:
            f.at[row, CHOICE], f.at[row, "status"] = NEW, "new"
            f.at[row, "message"] = "a new purchase (your choice)"
            for column in ("purchase_id", "old_unit_cost", "lot_ids"):
                f.at[row, column] = None
        else:
            f.at[row, CHOICE] = MATCH
            self._judge(row, value)
        self._candidates.pop(row, None)

    def _judge(self, row: int, slug: str) -> None:
        """The row matched to the thing the analyst chose, judged as the review would."""
        f, r = self.frame, self.reviewed.loc[row]
        if self.kind == "prices":
            thing = self._things.set_index("slug").loc[slug]
            score = next((s for c, _, s in self.candidates(row) if c == slug), None)
            old, uncosted = thing["price"], int(thing["uncosted_lots"])
            price = float(r["price"])
            if not _given(old):
                status = "new"
            elif abs(float(old) - price) < 5e-5:
                status = "changed" if uncosted else "unchanged"
            else:
                status = "changed"
            f.at[row, "match"], f.at[row, "product_id"] = slug, float(thing["id"])
            f.at[row, "score"], f.at[row, "old_price"] = score, old
            f.at[row, "uncosted_lots"], f.at[row, "status"] = float(uncosted), status
            f.at[row, "message"] = (f"chosen by you: {self._label(slug)}, price "
                                    f"{money_text(old) or 'none'} -> {money_text(price)}"
                                    + (f"; costs {uncosted} uncosted lot(s)" if uncosted else ""))
            return
        # purchases and counts: the review itself judges the row with the chosen key
        inputs = {"purchases": ("packages", "unit_cost", "purchased_on", "supplier",
                                "location", "notes"),
                  "inventory_count": ("counted", "unit")}[self.kind]
        source = {MATCH_COLUMN[self.kind]: slug,
                  **{c: r[c] for c in inputs if c in r.index and _given(r[c])}}
        if "purchased_on" in source:
            source["purchased_on"] = str(source["purchased_on"])[:10]
        with self._reading() as ws:
            again = ws.io.reconcile(pd.DataFrame([source]), kind=self.kind).frame.iloc[0]
        for column, value in again.items():
            if column in f.columns and column not in ("row", CHOICE):
                f.at[row, column] = value if _given(value) else None
        f.at[row, "message"] = f"chosen by you: {self._label(slug)}; {again['message']}"

    def accept_above(self, score: float) -> int:
        """Accept the proposed match of every undecided row scoring at least ``score``;
        returns how many rows were accepted."""
        undecided = self.frame.index[(self.frame[CHOICE] == UNDECIDED)
                                     & (self.reviewed["score"] >= float(score))]
        if self.confirm_panel is not None and self.confirm_panel.outcome == "committed":
            raise ValidationError("this review has been committed; reconcile again for a new "
                                  "one", field="score", value=score)
        # accepting a proposal is the review's own judgement of the row: set-based
        columns = list(self.reviewed.columns)
        self.frame.loc[undecided, columns] = self.reviewed.loc[undecided, columns]
        self.frame.loc[undecided, CHOICE] = MATCH
        self._refresh()
        return len(undecided)

    def counts(self) -> dict[str, int]:
        """Rows per status, in the panel's order."""
        found = self.frame["status"].value_counts()
        return {s: int(found[s]) for s in (*STATUS_ORDER, *sorted(set(found.index)
                                                                  - set(STATUS_ORDER)))
                if s in found.index}

    # -- preview and commit -------------------------------------------------------------------
    def stale(self) -> str | None:
        """Why the review no longer holds (the database moved since it was made), or None."""
        with self._reading() as ws:
            now = fingerprint(ws, self.kind)
        if now != self._fingerprint:
            what = ", ".join(k for k in now if now[k] != self._fingerprint.get(k))
            return (f"the database changed since this review was made ({what}); its "
                    "judgements may no longer be true: reconcile again.")
        return None

    def preview(self) -> ConfirmPanel | None:
        """The what-if of what apply would write, shown in the confirm panel (returned);
        None, with the reason in the status, when the review is stale or cannot apply."""
        with self._lock:
            if self.confirm_panel is not None and self.confirm_panel.outcome is None:
                self.confirm_panel._on_discard()  # a new preview replaces the undecided one
            undecided = int((self.frame["status"] == UNDECIDED).sum())
            reason = self.stale()
            if reason is not None:
                self.status.value = (f"<b style='color:{_RED}'>Not previewed</b>: "
                                     f"{html.escape(reason)} Nothing was written.")
                return None
            review = Reconciliation(self.kind, self.frame.copy())
            try:
                with self.bakery.what_if() as ws:
                    self.report = ws.io.apply_reconciliation(review)
            except BakekitError as exc:
                self.status.value = (f"<b style='color:{_RED}'>Not previewed</b>: "
                                     f"{html.escape(str(exc))}. Nothing was written.")
                return None
            self.confirm_panel = ConfirmPanel(ws.plan, check=self.stale,
                                              settled=lambda _: self._refresh())
            writes = self.frame[self.frame["status"].isin(WRITES)]
            self.status.value = (
                f"Preview: {len(writes)} row(s) would be written"
                + (f"; {undecided} undecided row(s) are not" if undecided else "")
                + ". Commit below writes exactly this.")
            self.preview_box.children = (widgets.HTML(_report_html(self.report)),
                                         self.confirm_panel)
            return self.confirm_panel

    # -- the page -----------------------------------------------------------------------------
    def _visible(self) -> pd.Index:
        wanted = self.filter.value
        if wanted == "all":
            return self.frame.index
        return self.frame.index[self.frame["status"] == wanted]

    def _go(self, page: int) -> None:
        self.page = max(0, page)
        self._refresh()

    def _refresh(self) -> None:
        counts = self.counts()
        options = [(f"All ({len(self.frame)})", "all")] + [
            (f"{s} ({n})", s) for s, n in counts.items()]
        if [v for _, v in options] != [v for _, v in self.filter.options]:
            keep = self.filter.value if self.filter.value in dict(
                (v, 1) for _, v in options) else "all"
            with self.filter.hold_trait_notifications():
                self.filter.options = options
                self.filter.value = keep
        else:
            self.filter.options = options
        committed = self.confirm_panel is not None and self.confirm_panel.outcome == "committed"
        state = "committed" if committed else (
            f"{counts.get(UNDECIDED, 0)} undecided" if counts.get(UNDECIDED) else "ready")
        self.title.value = (f"<h4 style='margin:4px 0'>Review of {html.escape(self.kind)}: "
                            f"{len(self.frame)} rows, {state}</h4>")
        rows = self._visible()
        pages = max(1, -(-len(rows) // self.page_size))
        self.page = min(self.page, pages - 1)
        shown = rows[self.page * self.page_size:(self.page + 1) * self.page_size]
        self.page_label.value = f"&nbsp;page {self.page + 1} of {pages}&nbsp;"
        self.previous_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= pages - 1
        key = (tuple(int(i) for i in shown), committed)
        if key == self._page_key:  # the same rows: update them in place (a choice is quick)
            for row, (label, choice) in self._shown.items():
                label.value = self._row_html(row)
                if choice.value != self.value(row):
                    choice.value = self.value(row)
        else:
            self._shown = {}
            self.rows_box.children = tuple(self._row_widget(int(i), disabled=committed)
                                           for i in shown)
            self._page_key = key
        self.preview_button.disabled = committed

    def _row_html(self, row: int) -> str:
        r = self.frame.loc[row]
        status = str(r["status"])
        colour = {"new": _GREEN, "changed": _GREEN, "conflict": _RED, "missing": _RED,
                  "invalid": _RED, UNDECIDED: "#9a6700"}.get(status, _GREY)
        text = html.escape(_row_text(self.kind, self.reviewed.loc[row]))
        return (f"<span style='color:#555'>row {int(r['row'])}</span> {text} "
                f"<b style='color:{colour}'>{html.escape(status)}</b> "
                f"<span style='color:{_GREY};font-size:90%'>"
                f"{html.escape(str(r['message']))}</span>")

    def _row_widget(self, row: int, *, disabled: bool) -> widgets.Widget:
        label = widgets.HTML(self._row_html(row), layout=widgets.Layout(width="640px"))
        choice = widgets.Dropdown(options=self.options(row), value=self.value(row),
                                  disabled=disabled or self.reviewed.at[row, "status"]
                                  == "invalid", layout=widgets.Layout(width="360px"))
        self._shown[row] = (label, choice)
        choice.add_class(f"bakekit-review-row-{row}")
        choice.observe(lambda change, row=row: self._on_choice(row, change), names="value")
        return widgets.HBox([label, choice], layout=widgets.Layout(align_items="center"))

    def _on_choice(self, row: int, change: dict[str, Any]) -> None:
        if change["new"] != self.value(row):
            self.choose(row, str(change["new"]))


def _row_text(kind: str, r: pd.Series) -> str:
    """What an input row says, in a few words."""
    if kind == "prices":
        return " ".join(str(v) for v in (r.get("brand"), r.get("product_name"))
                        if _given(v)) + f", {money_text(r.get('price'))}"
    if kind == "purchases":
        return (f"{r['product']} × {quantity_text(r['packages'])} on "
                f"{str(r['purchased_on'])[:10]}, {money_text(r['unit_cost']) or 'no price'}")
    if kind == "inventory_count":
        return f"{r['item']}: counted {quantity_text(r['counted'])} {r['unit']}"
    return " ".join(str(r[c]) for c in ("brand", "name") if c in r.index and _given(r[c]))


def _query(kind: str, r: pd.Series) -> str:
    if kind == "prices":
        return " ".join(str(r[c]) for c in ("brand", "product_name") if _given(r[c]))
    return str(r[MATCH_COLUMN[kind]])


def _report_html(report: ImportReport) -> str:
    frame = report.frame
    if frame.empty:
        return ""
    r = frame.iloc[0]
    return (f"<div>The apply would read {int(r['read'])} row(s): {int(r['created'])} created, "
            f"{int(r['updated'])} updated, {int(r['unchanged'])} unchanged, "
            f"{int(r['skipped'])} skipped.</div>")


def _bakery_of(reconciliation: Reconciliation) -> BakeryLike:
    ws = getattr(reconciliation._area, "_ws", None)
    bakery = getattr(ws, "bakery", None)
    if bakery is None:
        raise ValidationError("review: this reconciliation is not bound to a workspace; "
                              "pass bakery=", field="bakery", value=None)
    return bakery  # type: ignore[no-any-return]


def _things(ws: Workspace, kind: str) -> pd.DataFrame:
    """What a row of ``kind`` can match (slug, label, the text scored, and for products
    their price and uncosted lots), one read or two."""
    i, p, lots = tables.ingredients, tables.products, tables.lots
    if kind in ("prices", "purchases"):
        uncosted = (select(lots.c.product_id, func.count().label("n"))
                    .where(lots.c.unit_cost.is_(None), lots.c.product_id.isnot(None))
                    .group_by(lots.c.product_id).subquery())
        frame = ws.frame(
            select(p.c.id, p.c.slug, p.c.brand, p.c.name, i.c.name.label("ingredient"),
                   cast(p.c.price, Float).label("price"),
                   func.coalesce(uncosted.c.n, 0).label("uncosted_lots"))
            .join(i, i.c.id == p.c.ingredient_id)
            .outerjoin(uncosted, uncosted.c.product_id == p.c.id).order_by(p.c.slug))
        frame["label"] = frame["name"].astype(str)
        frame["text"] = (frame["brand"].fillna("") + " " + frame["name"].fillna("") + " "
                         + frame["ingredient"].fillna("") + " " + frame["slug"])
        return frame
    if kind == "inventory_count":
        both = pd.concat([
            ws.frame(select(i.c.slug, i.c.name.label("label")).order_by(i.c.slug)),
            ws.frame(select(p.c.slug, p.c.name.label("label")).order_by(p.c.slug))],
            ignore_index=True)
        both["text"] = both["slug"] + " " + both["label"].fillna("")
        return both
    return pd.DataFrame({"slug": [], "label": [], "text": []})


def fingerprint(ws: Workspace, kind: str) -> dict[str, Any]:
    """What a review of ``kind`` judged from, summed up in one statement: counts, largest
    ids and sums of the prices, lot costs and stock it read. A review is stale when this
    differs from when it was shown."""
    p, pur, lots = tables.products, tables.purchases, tables.lots
    parts: dict[str, Any] = {
        "products": [func.count(p.c.id), func.max(p.c.id), func.count(p.c.price),
                     func.sum(p.c.price)],
        "purchases": [func.count(pur.c.id), func.max(pur.c.id), func.count(pur.c.unit_cost),
                      func.sum(pur.c.unit_cost)],
        "lot costs": [func.count(lots.c.id), func.max(lots.c.id),
                      func.count(lots.c.unit_cost), func.sum(lots.c.unit_cost)],
        "stock": [func.sum(lots.c.remaining)],
    }
    wanted = {"prices": ("products", "lot costs"),
              "purchases": ("products", "purchases", "lot costs"),
              "inventory_count": ("products", "lot costs", "stock")}.get(kind, ("products",))
    columns = [select(agg).scalar_subquery() for name in wanted for agg in parts[name]]
    values = list(ws.execute(select(*columns)).one())
    out, n = {}, 0
    for name in wanted:
        k = len(parts[name])
        out[name] = tuple(None if v is None else str(v) for v in values[n:n + k])
        n += k
    return out


def review(reconciliation: Reconciliation, *, bakery: BakeryLike | None = None,
           page_size: int = PAGE_SIZE) -> ReviewPanel:
    """The review panel of a reconciliation (an ipywidgets widget): rows by status with
    counts, each fuzzy or missing row's candidates with scores, new or skip; choices go into
    ``reconciliation.frame``; Preview shows the what-if in the confirm panel.

    >>> import bakekit.nb
    >>> prices = pd.DataFrame([{"product_name": "Butter 4 lb", "brand": "Kirkland",
    ...                         "unit_price": 14.99}])
    >>> with bakery.session() as ws:
    ...     found = ws.io.reconcile(prices, kind="prices")
    >>> panel = bakekit.nb.review(found)
    >>> found.frame[["status", "choice"]].values.tolist()
    [['undecided', 'undecided']]
    >>> panel.accept_above(60)
    1
    >>> found.frame["status"].tolist()
    ['changed']
    """
    return ReviewPanel(reconciliation, bakery=bakery, page_size=page_size)


__all__ = ["ReviewPanel", "fingerprint", "review"]
