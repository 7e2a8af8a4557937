"""Events: recipients, packages, assignments, targets, clone; requirements, progress and the
shopping list (hand-checked, set-based)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bakekit.errors import NotFoundError, ValidationError
from tests.support.atomic import assert_atomic, counting, snapshot
from tests.support.data import BAKE_TRACKER_DATA

RECIPIENTS = ["Ann", "Bob", "Cy", "Dee", "Eve"]


def _catalog(ws) -> None:
    c = ws.catalog
    c.add_ingredient("flour", "Flour", density="1 cup = 4.25 oz")
    c.add_ingredient("sugar", "Sugar")
    c.add_ingredient("butter", "Butter")
    c.add_ingredient("cocoa", "Cocoa")
    c.add_ingredient("bag", "Cellophane bag", is_packaging=True)
    c.add_ingredient("box", "Gift box", is_packaging=True)
    c.add_ingredient("ribbon", "Ribbon", is_packaging=True)
    c.add_product("flour-1kg", "flour", name="Flour 1 kg", package_quantity=1,
                  package_unit="kg")
    c.add_product("flour-5lb", "flour", name="Flour 5 lb", package_quantity=5,
                  package_unit="lb", price=9.00)
    c.add_product("sugar-4lb", "sugar", name="Sugar 4 lb", package_quantity=4,
                  package_unit="lb", price=4.00)
    c.add_product("sugar-2lb", "sugar", name="Sugar 2 lb", package_quantity=2,
                  package_unit="lb", price=2.50, preferred=True)
    c.add_product("butter-1lb", "butter", name="Butter 1 lb", package_quantity=1,
                  package_unit="lb")
    c.add_product("cocoa-8oz", "cocoa", name="Cocoa 8 oz", package_quantity=8,
                  package_unit="oz", price=6.00)
    c.add_product("bag-50", "bag", name="Bags, 50", package_quantity=50, package_unit="each",
                  price=10.00)
    c.add_product("box-10", "box", name="Boxes, 10", package_quantity=10,
                  package_unit="each")
    c.add_product("ribbon-10oz", "ribbon", name="Ribbon spool", package_quantity=10,
                  package_unit="oz")
    inv = ws.inventory
    inv.purchase("flour-1kg", packages=1, unit_cost=3.00, purchased_on="2025-11-01")
    inv.purchase("butter-1lb", packages=2, unit_cost=5.75, purchased_on="2025-11-01")
    inv.purchase("box-10", packages=1, unit_cost=8.00, purchased_on="2025-11-01")
    r = ws.recipes
    r.add("icing", "Icing", ingredients=[("sugar", 100, "g"), ("butter", 50, "g")])
    r.add("sugar-cookie-dough", "Sugar cookies",
          ingredients=[("flour", 500, "g"), ("sugar", 200, "g"), ("butter", 250, "g")],
          components=[("icing", 0.5)],
          finished_units=[("sugar-cookie", "Sugar cookie", 24, "each")])
    r.add("brownie-batter", "Brownies",
          ingredients=[("flour", 100, "g"), ("sugar", 300, "g"), ("butter", 200, "g"),
                       ("cocoa", 50, "g")],
          finished_units=[("brownie", "Brownie", 16, "each")])
    a = ws.assembly
    a.add_finished_good("cookie-bag", "Bag of cookies", components=[("sugar-cookie", 6),
                                                                     ("bag", 1)])
    a.add_finished_good("brownie-box", "Box of brownies", components=[("brownie", 4),
                                                                       ("box", 1)])
    a.add_finished_good("sampler", "Sampler", components=[("cookie-bag", 1),
                                                          ("brownie-box", 1),
                                                          ("ribbon", 2, "oz")])
    e = ws.events
    e.add_package("small", "Small", contents=[("cookie-bag", 1)])
    e.add_package("medium", "Medium", contents=[("brownie-box", 2)])
    e.add_package("large", "Large", contents=[("sampler", 1), ("cookie-bag", 1)])


def _assign_five(ws, event: str) -> None:
    e = ws.events
    for name in RECIPIENTS:
        if name not in set(e.recipients()["item"]):
            e.add_recipient(name, household=f"{name}'s")
    e.assign(event, "Ann", "small")
    e.assign(event, "Bob", "small")
    e.assign(event, "Cy", "medium")
    e.assign(event, "Dee", "large")
    e.assign(event, "Eve", "large", quantity=2)
    e.assign(event, "Eve", "medium")


@pytest.fixture
def party(bakery):
    """Three packages (one nesting a good in a good) for five recipients."""
    with bakery.session() as ws:
        _catalog(ws)
        ws.events.create("Holidays", "2025-12-20", notes="family")
        _assign_five(ws, "Holidays")
        ws.commit()
    return bakery


def _level(frame, level):
    part = frame[frame["level"] == level]
    return {row.item: (row.quantity, row.unit) for row in part.itertuples()}


# -- writes ---------------------------------------------------------------------------------
def test_assignments_and_events_read_back(party):
    with party.session() as ws:
        ws.events.set_status("Holidays", "Ann", "small", "delivered")
        frame = ws.events.assignments("Holidays")
        events = ws.events.events()
    assert list(zip(frame["recipient"], frame["package"], frame["quantity"], strict=True)) == [
        ("Ann", "small", 1.0), ("Bob", "small", 1.0), ("Cy", "medium", 1.0),
        ("Dee", "large", 1.0), ("Eve", "large", 2.0), ("Eve", "medium", 1.0)]
    assert frame.iloc[0]["status"] == "delivered"
    assert set(frame["status"][1:]) == {"pending"}
    assert frame.iloc[0]["household"] == "Ann's"
    row = events.iloc[0]
    assert (row["item"], row["recipients"], row["packages"]) == ("Holidays", 5, 7.0)


def test_unassign_and_duplicate_assignment(party):
    with party.session() as ws:
        with pytest.raises(ValidationError) as info:
            ws.events.assign("Holidays", "Ann", "small")
        assert (info.value.field, info.value.value) == ("package", "small")
        ws.events.unassign("Holidays", "Ann", "small")
        assert "Ann" not in set(ws.events.assignments("Holidays")["recipient"])
        with pytest.raises(NotFoundError):
            ws.events.unassign("Holidays", "Ann", "small")


def test_clone_copies_assignments_and_targets_with_statuses_reset(party):
    with party.session() as ws:
        e = ws.events
        e.set_status("Holidays", "Cy", "medium", "assembled")
        e.set_target("Holidays", "sugar-cookie", 48)
        e.set_target("Holidays", "sampler", 3)
        e.clone("Holidays", "Holidays 2026", "2026-12-19")
        old = e.assignments("Holidays")
        new = e.assignments("Holidays 2026")
        targets = e.progress("Holidays 2026")
        events = e.events().set_index("item")
    key = ["recipient", "package", "quantity"]
    assert new[key].to_dict("records") == old[key].to_dict("records")
    assert set(new["status"]) == {"pending"}
    assert "assembled" in set(old["status"])
    assert dict(zip(targets["item"], targets["target"], strict=True)) == {
        "sampler": 3.0, "sugar-cookie": 48.0}
    assert events.loc["Holidays 2026", "notes"] == "family"
    assert str(events.loc["Holidays 2026", "date"].date()) == "2026-12-19"


def test_clone_assign_unassign_are_atomic(party):
    def workflow(ws):
        e = ws.events
        e.set_target("Holidays", "brownie", 28)
        e.clone("Holidays", "Next year", "2026-12-19")
        e.add_recipient("Fay")
        e.assign("Next year", "Fay", "large", quantity=3)
        e.unassign("Next year", "Ann", "small")
        e.set_status("Next year", "Bob", "small", "assembled")
        e.set_target("Next year", "brownie", 40)

    total = assert_atomic(party, workflow, minimum_statements=10)
    assert total >= 10


def test_add_package_is_atomic(party):
    assert_atomic(party, lambda ws: ws.events.add_package(
        "duo", "Duo", contents=[("cookie-bag", 1), ("brownie-box", 1)]))


def test_set_target_replaces(party):
    with party.session() as ws:
        first = ws.events.set_target("Holidays", "brownie", 20)
        second = ws.events.set_target("Holidays", "brownie", 28)
        progress = ws.events.progress("Holidays")
    assert first.created and not second.created and first.id == second.id
    assert list(progress["target"]) == [28.0]


@pytest.mark.parametrize(("call", "field", "value"), [
    (lambda e: e.create("New", "not a date"), "date", "not a date"),
    (lambda e: e.create("", "2025-01-01"), "name", ""),
    (lambda e: e.create("Holidays", "2025-01-01"), "name", "Holidays"),
    (lambda e: e.add_recipient("Ann"), "name", "Ann"),
    (lambda e: e.assign("Holidays", "Ann", "medium", quantity=0), "quantity", 0),
    (lambda e: e.set_status("Holidays", "Ann", "small", "lost"), "status", "lost"),
    (lambda e: e.set_target("Holidays", "brownie", -5), "quantity", -5),
    (lambda e: e.add_package("p", "P", contents=[]), "contents", []),
    (lambda e: e.add_package("p", "P", contents=[("sampler", "x")]), "quantity", "x"),
    (lambda e: e.add_package("p", "P", contents=[("sampler",)]), "contents", ("sampler",)),
    (lambda e: e.clone("Holidays", "Holidays", "2026-01-01"), "new_name", "Holidays"),
    (lambda e: e.clone("Holidays", "Other", "someday"), "new_date", "someday"),
])
def test_bad_input_names_field_and_value(party, call, field, value):
    before = snapshot(party)
    with party.session() as ws:
        with pytest.raises(ValidationError) as info:
            call(ws.events)
        ws.commit()
    assert (info.value.field, info.value.value) == (field, value)
    assert snapshot(party) == before


@pytest.mark.parametrize("call", [
    lambda e: e.assign("Nope", "Ann", "small"),
    lambda e: e.assign("Holidays", "Nobody", "small"),
    lambda e: e.assign("Holidays", "Ann", "no-package"),
    lambda e: e.set_target("Holidays", "flour", 1),
    lambda e: e.add_package("p", "P", contents=[("no-good", 1)]),
    lambda e: e.requirements("Nope"),
])
def test_unknown_names_are_not_found(party, call):
    with party.session() as ws, pytest.raises(NotFoundError):
        call(ws.events)


# -- planning reads -------------------------------------------------------------------------
def test_requirements_hand_checked(party):
    with party.session() as ws:
        frame = ws.events.requirements("Holidays")
    assert list(dict.fromkeys(frame["level"])) == ["package", "finished_good", "finished_unit",
                                                   "batches", "ingredient"]
    assert _level(frame, "package") == {"small": (2, "each"), "medium": (2, "each"),
                                        "large": (3, "each")}
    # cookie-bag: 2 small + 3 large + 3 inside the samplers; brownie-box: 2x2 + 3 samplers
    assert _level(frame, "finished_good") == {"cookie-bag": (8, "each"),
                                              "brownie-box": (7, "each"),
                                              "sampler": (3, "each")}
    assert _level(frame, "finished_unit") == {"sugar-cookie": (48, "each"),
                                              "brownie": (28, "each")}
    # 48 / 24 = 2 batches; 28 / 16 = 1.75 -> 2 whole batches
    assert _level(frame, "batches") == {"sugar-cookie-dough": (2, "batch"),
                                        "brownie-batter": (2, "batch")}
    ingredients = _level(frame, "ingredient")
    # dough x2 (+ icing x1) and batter x2, plus the goods' packaging
    assert ingredients == {
        "flour": (pytest.approx(2 * 500 + 2 * 100), "g"),
        "sugar": (pytest.approx(2 * 200 + 100 + 2 * 300), "g"),
        "butter": (pytest.approx(2 * 250 + 50 + 2 * 200), "g"),
        "cocoa": (pytest.approx(2 * 50), "g"),
        "bag": (8, "each"), "box": (7, "each"), "ribbon": (6, "oz"),
    }


def test_shopping_list_hand_checked_and_packages_cover_the_shortfall(party):
    with party.session() as ws:
        frame = ws.events.shopping_list("Holidays").set_index("item")
    assert set(frame.index) == {"flour", "sugar", "butter", "cocoa", "bag", "box", "ribbon"}
    assert frame.index.is_unique  # one product (or none) per item here
    # flour: 1200 g needed, a 1 kg bag on hand; one more 1 kg bag (3.00) beats 5 lb (9.00)
    assert frame.loc["flour", "on_hand"] == pytest.approx(1000)
    assert frame.loc["flour", "shortfall"] == pytest.approx(200)
    assert (frame.loc["flour", "product"], frame.loc["flour", "packages"]) == ("flour-1kg", 1)
    assert frame.loc["flour", "estimated_cost"] == pytest.approx(3.00)
    assert frame.loc["flour", "left_over"] == pytest.approx(800)
    # sugar: 1100 g, nothing on hand: one 4 lb bag (4.00) beats two preferred 2 lb (5.00)
    assert (frame.loc["sugar", "product"], frame.loc["sugar", "packages"]) == ("sugar-4lb", 1)
    assert frame.loc["sugar", "estimated_cost"] == pytest.approx(4.00)
    assert frame.loc["sugar", "left_over"] == pytest.approx(4 * 453.59237 - 1100)
    assert (frame.loc["sugar", "package_quantity"], frame.loc["sugar", "package_unit"],
            frame.loc["sugar", "price"]) == (4.0, "lb", 4.0)
    # butter: 950 g needed, 2 lb (907.18 g) on hand
    assert frame.loc["butter", "shortfall"] == pytest.approx(950 - 2 * 453.59237, abs=1e-3)
    assert (frame.loc["butter", "product"], frame.loc["butter", "packages"]) == (
        "butter-1lb", 1)
    assert frame.loc["butter", "estimated_cost"] == pytest.approx(5.75)
    assert frame.loc["cocoa", "packages"] == 1
    assert frame.loc["bag", "packages"] == 1 and frame.loc["bag", "estimated_cost"] == 10.0
    # 7 boxes needed, 10 on hand: nothing to buy
    assert (frame.loc["box", "shortfall"], frame.loc["box", "packages"]) == (0.0, 0)
    assert frame.loc["box", "estimated_cost"] == 0.0 and pd.isna(frame.loc["box", "product"])
    # ribbon: short, but its one product has no known price: on the list, with a note
    ribbon = frame.loc["ribbon"]
    assert ribbon["shortfall"] == pytest.approx(6)
    assert pd.isna(ribbon["product"]) and pd.isna(ribbon["packages"])
    assert math.isnan(ribbon["estimated_cost"]) and math.isnan(ribbon["price"])
    assert "no priced product of ribbon" in ribbon["note"] and "ribbon-10oz" in ribbon["note"]
    bought = frame[frame["packages"].fillna(0) > 0]
    for item, row in bought.iterrows():
        size = row["package_quantity"] * _factor(row["package_unit"], row["unit"])
        packages = int(row["packages"])
        assert packages * size >= row["shortfall"] - 1e-9, item
        assert packages * size - row["shortfall"] == pytest.approx(row["left_over"]), item


def test_shopping_list_prefer_preferred_buys_the_preferred_product(party):
    with party.session() as ws:
        ws.catalog.update_product("ribbon-10oz", preferred=True)
        frame = ws.events.shopping_list("Holidays", prefer="preferred").set_index("item")
        with pytest.raises(ValidationError) as info:
            ws.events.shopping_list("Holidays", prefer="dearest")
    assert (info.value.field, info.value.value) == ("prefer", "dearest")
    # sugar: the preferred 2 lb bag (907 g), two of them, though one 4 lb bag is cheaper
    assert (frame.loc["sugar", "product"], frame.loc["sugar", "packages"]) == ("sugar-2lb", 2)
    assert frame.loc["sugar", "estimated_cost"] == pytest.approx(5.00)
    # no preferred flour product: the cheapest cover, as with prefer="cheapest"
    assert (frame.loc["flour", "product"], frame.loc["flour", "packages"]) == ("flour-1kg", 1)
    # a preferred product without a price is still bought, its cost unknown
    ribbon = frame.loc["ribbon"]
    assert (ribbon["product"], ribbon["packages"]) == ("ribbon-10oz", 1)
    assert math.isnan(ribbon["estimated_cost"]) and "no known price" in ribbon["note"]
    assert ribbon["left_over"] == pytest.approx(4)


def _chips_event(ws, ounces, products) -> None:
    """An event needing ``ounces`` of chocolate chips (none on hand), bought from
    ``products``: (slug, package ounces, price, preferred)."""
    ws.catalog.add_ingredient("chips", "Chocolate chips")
    for slug, size, price, preferred in products:
        ws.catalog.add_product(slug, "chips", name=slug, package_quantity=size,
                               package_unit="oz", price=price, preferred=preferred)
    ws.recipes.add("chip-dough", "Chip cookies", ingredients=[("chips", ounces, "oz")],
                   finished_units=[("chip-cookie", "Chip cookie", 24, "each")])
    ws.assembly.add_finished_good("chip-tin", "Tin of chip cookies",
                                  components=[("chip-cookie", 24)])
    ws.events.add_package("chip-box", "Chip box", contents=[("chip-tin", 1)])
    ws.events.create("Chips", "2025-12-01")
    ws.events.add_recipient("Zoe")
    ws.events.assign("Chips", "Zoe", "chip-box")


CHIPS = [("chips-10oz", 10, 3.00, False), ("chips-72oz", 72, 15.00, True)]


def _bought(frame):
    return {row.product: (int(row.packages), row.estimated_cost)
            for row in frame.itertuples() if pd.notna(row.product) and row.packages > 0}


def test_shopping_list_three_small_bags_beat_one_big_bag(bakery):
    with bakery.session() as ws:
        _chips_event(ws, 30, CHIPS)
        frame = ws.events.shopping_list("Chips")
        preferred = ws.events.shopping_list("Chips", prefer="preferred")
    assert list(frame["item"]) == ["chips"]
    assert _bought(frame) == {"chips-10oz": (3, 9.00)}
    assert frame.loc[0, "shortfall"] == 30 and frame.loc[0, "left_over"] == 0
    # the preferred 72 oz bag, as the shopping list bought before
    assert _bought(preferred) == {"chips-72oz": (1, 15.00)}
    assert preferred.loc[0, "left_over"] == 42


def test_shopping_list_mixes_sizes(bakery):
    with bakery.session() as ws:
        _chips_event(ws, 75, CHIPS)
        frame = ws.events.shopping_list("Chips")
    # one 72 and one 10 (18.00): not eight 10s (24.00), not two 72s (30.00)
    assert _bought(frame) == {"chips-10oz": (1, 3.00), "chips-72oz": (1, 15.00)}
    assert list(frame["product"]) == ["chips-10oz", "chips-72oz"]
    assert set(frame["shortfall"]) == {75.0} and set(frame["left_over"]) == {7.0}
    assert frame["estimated_cost"].sum() == pytest.approx(18.00)


def test_shopping_list_ties_go_to_less_left_over_then_fewer_packages(bakery):
    with bakery.session() as ws:
        # 20 oz: one 24 oz bag or two 10 oz bags, 6.00 either way; two 10s leave nothing
        _chips_event(ws, 20, [("chips-24oz", 24, 6.00, False), ("chips-10oz", 10, 3.00, False),
                              ("chips-20oz", 20, 7.00, False)])
        less_left_over = _bought(ws.events.shopping_list("Chips"))
        # now a 20 oz bag at 6.00 too: no left over either way, one package beats two
        ws.catalog.update_product("chips-20oz", price=6.00)
        fewer = _bought(ws.events.shopping_list("Chips"))
    assert less_left_over == {"chips-10oz": (2, 6.00)}
    assert fewer == {"chips-20oz": (1, 6.00)}


def test_shopping_list_on_the_real_bake_tracker_catalog(bakery):
    """bake-tracker's sample catalog has Nestle semi-sweet chips in 10 oz and 72 oz bags
    (and a 10 oz bag on hand); priced as in a store, a bake needing 120 oz buys one 72 oz
    and four 10 oz bags, where the cheapest-per-ounce rule would buy two 72 oz bags."""
    with bakery.session() as ws:
        ws.io.import_bake_tracker(BAKE_TRACKER_DATA / "sample_data_all_v4.2.json")
        bags = ws.catalog.products("chocolate_chips_semi_sweet").set_index("package_quantity")
        small, big = bags.loc[10.0, "item"], bags.loc[72.0, "item"]
        ws.catalog.update_product(small, price=3.49)
        ws.catalog.update_product(big, price=15.99)
        ws.recipes.add("chip-cookies-x", "Chip cookies", ingredients=[
            ("chocolate_chips_semi_sweet", 40, "oz"), ("flour_all_purpose", 9, "cup")],
            finished_units=[("chip-cookie-x", "Chip cookie", 48, "each")])
        ws.assembly.add_finished_good("chip-tray-x", "Tray of chip cookies",
                                      components=[("chip-cookie-x", 48)])
        ws.events.add_package("chip-trays-x", "Three trays", contents=[("chip-tray-x", 3)])
        ws.events.create("Cookie swap", "2026-12-12")
        ws.events.add_recipient("Neighbours")
        ws.events.assign("Cookie swap", "Neighbours", "chip-trays-x")
        frame = ws.events.shopping_list("Cookie swap")
    chips = frame[frame["item"] == "chocolate_chips_semi_sweet"]
    assert set(chips["shortfall"]) == {110.0}  # 3 x 40 oz, 10 oz on hand
    assert _bought(chips) == {small: (4, pytest.approx(4 * 3.49)),
                              big: (1, pytest.approx(15.99))}
    assert chips["estimated_cost"].sum() == pytest.approx(29.95)  # two 72 oz: 31.98
    assert set(chips["left_over"]) == {2.0}
    # 27 cups of flour (about 7.5 lb) against the 25 lb bag on hand: nothing to buy
    flour = frame[frame["item"] == "flour_all_purpose"].iloc[0]
    assert (flour["shortfall"], flour["packages"]) == (0.0, 0)


def _factor(from_unit: str, to_unit: str) -> float:
    from bakekit.units import factor

    return float(factor(from_unit, to_unit))


def test_shopping_list_of_an_event_without_assignments_is_empty(party):
    with party.session() as ws:
        ws.events.create("Quiet", "2025-06-01")
        frame = ws.events.shopping_list("Quiet")
        requirements = ws.events.requirements("Quiet")
        progress = ws.events.progress("Quiet")
    assert frame.empty and "estimated_cost" in frame.columns
    assert requirements.empty and list(requirements.columns)[:4] == ["level", "item",
                                                                     "quantity", "unit"]
    assert progress.empty and "remaining" in progress.columns


def test_progress_counts_runs_linked_to_the_event_and_not_reversed(party):
    with party.session() as ws:
        ws.events.set_target("Holidays", "sugar-cookie", 48)
        ws.events.set_target("Holidays", "cookie-bag", 8)
        ws.events.set_target("Holidays", "brownie", 28)
        ws.inventory.purchase("sugar-2lb", packages=2, unit_cost=2.50,
                              purchased_on="2025-11-02")
        ws.inventory.purchase("bag-50", packages=1, unit_cost=10.00, purchased_on="2025-11-02")
        ws.production.record("sugar-cookie", batches=1, event="Holidays")
        ws.production.record("sugar-cookie", batches=0.5)  # not for this event
        ws.assembly.record("cookie-bag", quantity=2, event="Holidays")
        undone = ws.assembly.record("cookie-bag", quantity=1, event="Holidays")
        ws.assembly.reverse(undone.run_id)
        frame = ws.events.progress("Holidays").set_index("item")
    assert frame.loc["sugar-cookie", "target"] == 48.0
    assert frame.loc["sugar-cookie", "done"] == 24.0
    assert frame.loc["sugar-cookie", "remaining"] == 24.0
    assert frame.loc["sugar-cookie", "percent"] == 50.0
    assert frame.loc["cookie-bag", "done"] == 2.0
    assert frame.loc["cookie-bag", "remaining"] == 6.0
    assert frame.loc["brownie", "done"] == 0.0
    assert frame.loc["brownie", "kind"] == "finished_unit"
    assert frame.loc["cookie-bag", "kind"] == "finished_good"


def test_statement_counts_do_not_grow_with_recipients(party):
    with party.session() as ws:
        ws.events.create("Big", "2025-12-21")
        ws.events.create("Small", "2025-12-22")
        _assign_five(ws, "Small")
        for i in range(500):
            name = f"guest {i:03d}"
            ws.events.add_recipient(name)
            ws.events.assign("Big", name, ("small", "medium", "large")[i % 3],
                             quantity=1 + i % 2)
        for event in ("Big", "Small"):
            ws.events.set_target(event, "sugar-cookie", 100)
            ws.events.set_target(event, "sampler", 10)
        ws.commit()
    counts: dict[str, dict[str, int]] = {}
    for event in ("Small", "Big"):
        counts[event] = {}
        with party.session() as ws:
            for read in ("requirements", "progress", "shopping_list"):
                with counting(party) as c:
                    frame = getattr(ws.events, read)(event)
                assert not frame.empty
                counts[event][read] = c.n_statements
    assert counts["Small"] == counts["Big"]
    assert counts["Big"]["progress"] <= 3
    assert counts["Big"]["requirements"] <= 8
    assert counts["Big"]["shopping_list"] <= 10
    with party.session() as ws:
        big = _level(ws.events.requirements("Big"), "package")
    assert big == {"small": (250, "each"), "medium": (251, "each"), "large": (249, "each")}
