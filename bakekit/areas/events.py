"""The events area: events, recipients, gift packages, assignments, targets and planning reads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Float, and_, cast, delete, func, insert, literal, or_, select, update

from bakekit import frames, stock
from bakekit.areas._common import entries, lookup_id, refuse_duplicate
from bakekit.areas._needs import EACH, event_needs
from bakekit.areas._shopping import shopping_rows
from bakekit.checks import check_date, check_key, check_text, positive
from bakekit.db import tables
from bakekit.db.models.events import ASSIGNMENT_STATUSES
from bakekit.errors import NotFoundError, ValidationError
from bakekit.operations import Area, read_operation, write_operation
from bakekit.results import Saved

#: the order of the levels in ``requirements``: from what is given to what is bought
LEVELS = ("package", "finished_good", "finished_unit", "batches", "ingredient")
BATCH_UNIT = "batch"
#: how ``shopping_list`` chooses what to buy
PREFER = ("cheapest", "preferred")
SHOPPING_COLUMNS = ["item", "needed", "on_hand", "shortfall", "unit", "product", "packages",
                    "estimated_cost", "package_quantity", "package_unit", "price", "left_over",
                    "note"]


class Events(Area):
    """Events with recipients and gift packages, production targets and the shopping list.

    >>> with bakery.session() as ws:
    ...     _ = ws.events.create("Birthday", "2026-03-14")
    ...     _ = ws.events.add_recipient("Aunt May", household="Parkers")
    ...     _ = ws.events.add_package("small-box", "Small box", contents=[("cookie-box", 1)])
    ...     _ = ws.events.assign("Birthday", "Aunt May", "small-box", 3)
    ...     needs = ws.events.requirements("Birthday")
    >>> needs.query("level == 'finished_good'")[["item", "quantity"]].values.tolist()
    [['cookie-box', 3.0]]
    """

    area_name = "events"

    # -- lookups ------------------------------------------------------------------------------
    def _event_id(self, event: object) -> int:
        return lookup_id(self._ws, "events", "name", event, "event")

    def _assignment_key(self, event: object, recipient: object,
                        package: object) -> tuple[int, int, int]:
        return (self._event_id(event),
                lookup_id(self._ws, "recipients", "name", recipient, "recipient"),
                lookup_id(self._ws, "packages", "slug", package, "package"))

    def _assignment_id(self, key: tuple[int, int, int]) -> int | None:
        a = tables.assignments
        found = self._ws.scalar(select(a.c.id).where(
            a.c.event_id == key[0], a.c.recipient_id == key[1], a.c.package_id == key[2]))
        return None if found is None else int(found)

    # -- writes -------------------------------------------------------------------------------
    @write_operation
    def create(self, name: str, date: Any, notes: str | None = None) -> Saved:
        """Create an event, named by its name.

        >>> ws.events.create("Easter 2026", "2026-04-05").key
        'Easter 2026'
        """
        check_key(name, "name")
        on = check_date(date, "date")
        check_text(notes, "notes")
        refuse_duplicate(self._ws, "events", "name", name, "event")
        t = tables.events
        new_id = self._ws.execute(insert(t).returning(t.c.id),
                                  {"name": name, "date": on, "notes": notes}).scalar_one()
        return Saved("event", name, int(new_id))

    @write_operation
    def add_recipient(self, name: str, household: str | None = None,
                      address: str | None = None, notes: str | None = None) -> Saved:
        """Add someone packages are given to, named by their name.

        >>> ws.events.add_recipient("Aunt May", household="Parkers").entity
        'recipient'
        """
        check_key(name, "name")
        values = {k: check_text(v, k) for k, v in
                  {"household": household, "address": address, "notes": notes}.items()}
        refuse_duplicate(self._ws, "recipients", "name", name, "recipient")
        t = tables.recipients
        new_id = self._ws.execute(insert(t).returning(t.c.id),
                                  {"name": name, **values}).scalar_one()
        return Saved("recipient", name, int(new_id))

    @write_operation
    def add_package(self, slug: str, name: str, *, contents: Any,
                    notes: str | None = None) -> Saved:
        """Define a gift package: finished goods with quantities.

        >>> ws.events.add_package("big-box", "Big box",
        ...                       contents=[("cookie-box", 1), ("brownie-bag", 2)]).key
        'big-box'
        """
        check_key(slug, "slug")
        check_key(name, "name")
        check_text(notes, "notes")
        pairs = entries(contents, "contents", (2,), shape="(finished_good, quantity) pairs",
                        at_least_one="a package needs at least one finished good")
        refuse_duplicate(self._ws, "packages", "slug", slug, "package")
        rows: dict[int, Decimal] = {}
        for good, quantity in pairs:
            amount = positive(quantity, "quantity")
            good_id = lookup_id(self._ws, "finished_goods", "slug", good, "finished good")
            if good_id in rows:
                raise ValidationError(f"contents: {good!r} is listed twice; give it once with "
                                      "the total quantity", field="contents", value=good)
            rows[good_id] = amount
        p = tables.packages
        package_id = int(self._ws.execute(insert(p).returning(p.c.id),
                                          {"slug": slug, "name": name,
                                           "notes": notes}).scalar_one())
        self._ws.execute(insert(tables.package_contents), [
            {"package_id": package_id, "finished_good_id": g, "quantity": n}
            for g, n in rows.items()])
        return Saved("package", slug, package_id)

    @write_operation
    def assign(self, event: str, recipient: str, package: str,
               quantity: float | int | str = 1, notes: str | None = None) -> Saved:
        """Give ``quantity`` of a package to a recipient at an event (status pending).

        >>> _ = ws.events.add_recipient("Aunt May")
        >>> ws.events.assign("Holidays 2025", "Aunt May", "classic", 2).created
        True
        """
        amount = positive(quantity, "quantity")
        check_text(notes, "notes")
        key = self._assignment_key(event, recipient, package)
        if self._assignment_id(key) is not None:
            raise ValidationError(
                f"package: {package!r} is already assigned to {recipient!r} at {event!r}; "
                "unassign it first to change the quantity", field="package", value=package)
        a = tables.assignments
        new_id = self._ws.execute(insert(a).returning(a.c.id), {
            "event_id": key[0], "recipient_id": key[1], "package_id": key[2],
            "quantity": amount, "status": "pending", "notes": notes}).scalar_one()
        return Saved("assignment", f"{event}/{recipient}/{package}", int(new_id))

    @write_operation
    def unassign(self, event: str, recipient: str, package: str) -> Saved:
        """Take a package assignment away again.

        >>> _ = ws.events.unassign("Holidays 2025", "Grandma June", "deluxe")
        >>> "Grandma June" in set(ws.events.assignments("Holidays 2025")["recipient"])
        False
        """
        key = self._assignment_key(event, recipient, package)
        found = self._assignment_id(key)
        if found is None:
            raise NotFoundError("assignment", f"{event}/{recipient}/{package}")
        a = tables.assignments
        self._ws.execute(delete(a).where(a.c.id == found))
        return Saved("assignment", f"{event}/{recipient}/{package}", found, created=False)

    @write_operation
    def set_status(self, event: str, recipient: str, package: str, status: str) -> Saved:
        """Mark an assignment pending, assembled or delivered.

        >>> _ = ws.events.set_status("Holidays 2025", "Grandma June", "deluxe", "delivered")
        >>> ws.events.assignments("Holidays 2025").query("recipient == 'Grandma June'")[
        ...     "status"].tolist()
        ['delivered']
        """
        if status not in ASSIGNMENT_STATUSES:
            raise ValidationError(f"status: {status!r} is not one of "
                                  f"{', '.join(ASSIGNMENT_STATUSES)}", field="status",
                                  value=status)
        key = self._assignment_key(event, recipient, package)
        found = self._assignment_id(key)
        if found is None:
            raise NotFoundError("assignment", f"{event}/{recipient}/{package}")
        a = tables.assignments
        self._ws.execute(update(a).where(a.c.id == found).values(status=status))
        return Saved("assignment", f"{event}/{recipient}/{package}", found, created=False)

    @write_operation
    def set_target(self, event: str, item: str, quantity: float | int | str) -> Saved:
        """How many of a finished unit (production) or finished good (assembly) an event
        needs; setting it again replaces the number.

        >>> _ = ws.events.set_target("Holidays 2025", "sugar-cookie", 120)
        >>> ws.events.progress("Holidays 2025").set_index("item").loc["sugar-cookie", "target"]
        np.float64(120.0)
        """
        event_id = self._event_id(event)
        amount = positive(quantity, "quantity")
        resolved = self._target_item(item)
        t = tables.targets
        column = t.c[resolved.column]
        found = self._ws.scalar(select(t.c.id).where(t.c.event_id == event_id,
                                                     column == resolved.id))
        if found is None:
            found = self._ws.execute(insert(t).returning(t.c.id), {
                "event_id": event_id, resolved.column: resolved.id,
                "quantity": amount}).scalar_one()
            created = True
        else:
            self._ws.execute(update(t).where(t.c.id == found).values(quantity=amount))
            created = False
        return Saved("target", f"{event}/{item}", int(found), created=created)

    def _target_item(self, item: object) -> stock.Item:
        for kind in ("finished_unit", "finished_good"):
            try:
                return stock.resolve_item(self._ws, kind, item)
            except NotFoundError:
                continue
        raise NotFoundError("finished unit or finished good", item)

    @write_operation
    def clone(self, event: str, new_name: str, new_date: Any) -> Saved:
        """Copy an event with its assignments (statuses back to pending) and targets; runs
        stay with the original.

        >>> ws.events.clone("Holidays 2025", "Holidays 2026", "2026-12-19").key
        'Holidays 2026'
        """
        source = self._event_id(event)
        check_key(new_name, "new_name")
        on = check_date(new_date, "new_date")
        ev, a, t = tables.events, tables.assignments, tables.targets
        if self._ws.scalar(select(ev.c.id).where(ev.c.name == new_name)) is not None:
            raise ValidationError(f"event {new_name!r} already exists", field="new_name",
                                  value=new_name)
        notes = self._ws.scalar(select(ev.c.notes).where(ev.c.id == source))
        new_id = int(self._ws.execute(insert(ev).returning(ev.c.id), {
            "name": new_name, "date": on, "notes": notes}).scalar_one())
        self._ws.execute(insert(a).from_select(
            ["event_id", "recipient_id", "package_id", "quantity", "status", "notes"],
            select(literal(new_id), a.c.recipient_id, a.c.package_id, a.c.quantity,
                   literal("pending"), a.c.notes)
            .where(a.c.event_id == source).order_by(a.c.id)))
        self._ws.execute(insert(t).from_select(
            ["event_id", "finished_unit_id", "finished_good_id", "quantity"],
            select(literal(new_id), t.c.finished_unit_id, t.c.finished_good_id, t.c.quantity)
            .where(t.c.event_id == source).order_by(t.c.id)))
        return Saved("event", new_name, new_id)

    # -- reads --------------------------------------------------------------------------------
    @read_operation
    def events(self) -> pd.DataFrame:
        """Every event, by date: how many recipients and packages it has. ``event`` is its
        name (``item`` too, as in every frame, for code that reads the name there).

        >>> ws.events.events()[["event", "date", "recipients"]]
                   event       date  recipients
        0  Holidays 2025 2025-12-20           6
        """
        ev, a = tables.events, tables.assignments
        per_event = (select(a.c.event_id,
                            func.count(func.distinct(a.c.recipient_id)).label("recipients"),
                            func.sum(a.c.quantity).label("packages"))
                     .group_by(a.c.event_id).subquery())
        stmt = (
            select(ev.c.id.label("event_id"), ev.c.name.label("event"),
                   ev.c.name.label("item"), ev.c.date, ev.c.notes,
                   func.coalesce(per_event.c.recipients, 0).label("recipients"),
                   cast(func.coalesce(per_event.c.packages, 0), Float).label("packages"))
            .select_from(ev.outerjoin(per_event, per_event.c.event_id == ev.c.id))
            .order_by(ev.c.date, ev.c.name)
        )
        return frames.validate(self._ws.frame(stmt), frames.EVENTS)

    @read_operation
    def recipients(self) -> pd.DataFrame:
        """Every recipient, by name."""
        r = tables.recipients
        stmt = select(r.c.id.label("recipient_id"), r.c.name.label("item"), r.c.household,
                      r.c.address, r.c.notes).order_by(r.c.name)
        return frames.validate(self._ws.frame(stmt), frames.RECIPIENTS)

    @read_operation
    def packages(self) -> pd.DataFrame:
        """Every package's contents, one row per finished good."""
        p, pc, fg = tables.packages, tables.package_contents, tables.finished_goods
        stmt = (
            select(p.c.slug.label("package"), p.c.name, fg.c.slug.label("finished_good"),
                   cast(pc.c.quantity, Float).label("quantity"))
            .select_from(p.outerjoin(pc, pc.c.package_id == p.c.id)
                         .outerjoin(fg, fg.c.id == pc.c.finished_good_id))
            .order_by(p.c.slug, fg.c.slug)
        )
        return frames.validate(self._ws.frame(stmt), frames.PACKAGES)

    @read_operation
    def assignments(self, event: str) -> pd.DataFrame:
        """Who gets which package at an event, with its status; by recipient, then package.

        >>> ws.events.assignments("Holidays 2025")["status"].unique().tolist()
        ['pending']
        """
        event_id = self._event_id(event)
        a, ev, r, p = (tables.assignments, tables.events, tables.recipients,
                       tables.packages)
        stmt = (
            select(a.c.id.label("assignment_id"), ev.c.name.label("event"),
                   r.c.name.label("recipient"), r.c.household, p.c.slug.label("package"),
                   cast(a.c.quantity, Float).label("quantity"), a.c.status, a.c.notes)
            .select_from(a.join(ev, ev.c.id == a.c.event_id)
                         .join(r, r.c.id == a.c.recipient_id)
                         .join(p, p.c.id == a.c.package_id))
            .where(a.c.event_id == event_id)
            .order_by(r.c.name, p.c.slug)
        )
        return frames.validate(self._ws.frame(stmt), frames.ASSIGNMENTS)

    @read_operation
    def requirements(self, event: str) -> pd.DataFrame:
        """Everything an event's assignments need, one tidy frame with a ``level`` column:
        package -> finished_good (nested goods expanded) -> finished_unit -> batches (whole
        batches per recipe: each finished unit's need rounded up to whole batches, summed)
        -> ingredient (those whole batches' ingredients plus the goods' packaging).

        Gross needs: stock on hand is not subtracted (see ``shopping_list``). The number of
        SQL statements does not depend on the number of recipients or assignments.

        >>> batches = ws.events.requirements("Holidays 2025").query("level == 'batches'")
        >>> batches[["item", "quantity", "unit"]].to_string(index=False).splitlines()[1]
        'chocolate-chip-cookies       3.0 batch'
        """
        needs = event_needs(self._ws, self._event_id(event))
        rows: list[dict[str, Any]] = []
        for slug, amount in needs.packages:
            rows.append({"level": "package", "item": slug, "quantity": amount, "unit": EACH})
        for slug, amount in sorted(needs.goods.items()):
            rows.append({"level": "finished_good", "item": slug, "quantity": amount,
                         "unit": EACH})
        for slug, amount, unit, recipe in needs.units:
            rows.append({"level": "finished_unit", "item": slug, "quantity": amount,
                         "unit": unit, "recipe": recipe})
        for _, recipe, count in needs.batches:
            rows.append({"level": "batches", "item": recipe, "quantity": count,
                         "unit": BATCH_UNIT, "recipe": recipe})
        for item, amount, unit in needs.ingredients:
            rows.append({"level": "ingredient", "item": item.slug, "quantity": amount,
                         "unit": unit})
        frame = pd.DataFrame(rows, columns=["level", "item", "quantity", "unit", "recipe"])
        frame["quantity"] = frame["quantity"].astype(float)
        return frames.validate(frame, frames.REQUIREMENTS)

    @read_operation
    def progress(self, event: str) -> pd.DataFrame:
        """Per target of the event: target, done (items made by the event's runs that are
        not reversed), remaining and percent done.

        >>> ws.events.progress("Holidays 2025")[["item", "target", "done"]].head(2)
                            item  target  done
        0            brownie-bag     5.0   0.0
        1  chocolate-chip-cookie   108.0  34.0
        """
        event_id = self._event_id(event)
        t, runs, fu, fg = (tables.targets, tables.runs, tables.finished_units,
                           tables.finished_goods)
        made = (select(runs.c.finished_unit_id, runs.c.finished_good_id,
                       func.sum(runs.c.quantity).label("done"))
                .where(runs.c.event_id == event_id, runs.c.reversed_at.is_(None))
                .group_by(runs.c.finished_unit_id, runs.c.finished_good_id).subquery())
        on = or_(and_(t.c.finished_unit_id.isnot(None),
                      made.c.finished_unit_id == t.c.finished_unit_id),
                 and_(t.c.finished_good_id.isnot(None),
                      made.c.finished_good_id == t.c.finished_good_id))
        stmt = (
            select(func.coalesce(fu.c.slug, fg.c.slug).label("item"),
                   t.c.finished_unit_id.isnot(None).label("is_unit"),
                   cast(t.c.quantity, Float).label("target"),
                   cast(func.coalesce(made.c.done, 0), Float).label("done"))
            .select_from(t.outerjoin(fu, fu.c.id == t.c.finished_unit_id)
                         .outerjoin(fg, fg.c.id == t.c.finished_good_id)
                         .outerjoin(made, on))
            .where(t.c.event_id == event_id)
            .order_by(func.coalesce(fu.c.slug, fg.c.slug))
        )
        frame = self._ws.frame(stmt)
        if not frame.empty:
            frame["kind"] = ["finished_unit" if u else "finished_good" for u in frame["is_unit"]]
            frame = frame.drop(columns=["is_unit"])
            frame["remaining"] = (frame["target"] - frame["done"]).clip(lower=0)
            frame["percent"] = (100 * frame["done"] / frame["target"]).round(1)
        else:
            frame = pd.DataFrame(columns=["item", "target", "done", "remaining", "kind",
                                          "percent"])
        return frames.validate(frame, frames.PROGRESS)

    @read_operation
    def shopping_list(self, event: str, *, prefer: str = "cheapest") -> pd.DataFrame:
        """Per ingredient the event needs (recipes and packaging): needed, on hand,
        shortfall, and what to buy, one row per product bought.

        ``prefer="cheapest"``: the least-cost set of whole packages that covers the
        shortfall, any mix of the ingredient's products and sizes at their latest known
        prices (ties: less left over, then fewer packages; see ``bakekit.buying``).
        ``prefer="preferred"``: the ingredient's preferred product alone where it has one
        (whole packages, priced or not), else as "cheapest".

        ``needed``, ``on_hand``, ``shortfall`` and ``left_over`` (what the item's packages
        cover beyond the shortfall) are the item's, in its unit, on each of its rows;
        ``packages`` and ``estimated_cost`` are the row's product's, so they add up. An item
        with no shortfall has one row with ``packages`` 0 and no product; an item short of
        stock with no priced product has one row without product, packages or cost, and a
        ``note`` saying why. Statements: a fixed few, whatever the number of recipients.

        >>> buy = ws.events.shopping_list("Holidays 2025")
        >>> buy.loc[buy["packages"] > 0, "product"].tolist()
        ['costco-butter-4lb', 'chips-36oz']
        """
        if prefer not in PREFER:
            raise ValidationError(f"prefer: {prefer!r} is not one of {', '.join(PREFER)}",
                                  field="prefer", value=prefer)
        needs = event_needs(self._ws, self._event_id(event)).ingredients
        if not needs:
            return frames.validate(pd.DataFrame(columns=SHOPPING_COLUMNS),
                                   frames.SHOPPING_LIST)
        rows = shopping_rows(self._ws, needs, prefer)
        return frames.validate(pd.DataFrame(rows, columns=SHOPPING_COLUMNS),
                               frames.SHOPPING_LIST)


