"""Recipes: nested components expanded and scaled, cycles refused, FIFO cost, atomic edits."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from bakekit.areas.expansion import expand
from bakekit.errors import (
    InUseError,
    NotFoundError,
    RecipeCycleError,
    UnitConversionError,
    ValidationError,
)
from tests.support.atomic import assert_atomic, counting, snapshot

OZ = 28.349523125  # grams


def add_brownie_family(ws):
    """glaze <- frosting (2 batches of glaze) <- brownie (half a batch of frosting)."""
    r = ws.recipes
    r.add("glaze", "Glaze", ingredients=[("sugar", 100, "g"), ("butter", 2, "tbsp")])
    r.add("frosting", "Frosting", ingredients=[("sugar", 200, "g"), ("cocoa", 10, "g")],
          components=[("glaze", 2)])
    r.add("brownie", "Brownies",
          ingredients=[("flour", 250, "g"), ("sugar", 300, "g"), ("butter", 4, "oz"),
                       ("cocoa", 2, "tbsp")],
          components=[("frosting", 0.5)],
          finished_units=[("brownie-square", "Brownie square", 16, "each")])


@pytest.fixture
def family(stocked):
    with stocked.session() as ws:
        add_brownie_family(ws)
        ws.commit()
    return stocked


def rows(frame):
    return {(r.item, r.unit): r.quantity for r in frame.itertuples()}


def test_nested_expansion_scales_and_sums_levels(family):
    with family.session() as ws:
        need = ws.recipes.ingredients_for("brownie", batches=2)
    # per brownie batch: own + 0.5 frosting (+ 0.5 x 2 = 1 glaze)
    # sugar: 300 + 0.5*200 + 1*100 = 500 g; butter: 4 oz + 1*(2 tbsp = 1 oz) = 5 oz
    # cocoa: 2 tbsp (no density) and 0.5*10 g stay apart; flour 250 g
    got = rows(need)
    assert list(need.columns[:5]) == ["item", "quantity", "unit", "quantity_base",
                                      "base_unit"]
    assert set(got) == {("flour", "g"), ("sugar", "g"), ("butter", "oz"), ("cocoa", "tbsp"),
                        ("cocoa", "g")}
    assert got[("flour", "g")] == pytest.approx(500)
    assert got[("sugar", "g")] == pytest.approx(1000)  # three levels, one row
    assert got[("butter", "oz")] == pytest.approx(10, rel=1e-6)  # two levels, one row
    assert got[("cocoa", "tbsp")] == pytest.approx(4)
    assert got[("cocoa", "g")] == pytest.approx(10)
    butter = need[need["item"] == "butter"].iloc[0]
    assert (butter["base_unit"], butter["quantity_base"]) == ("g", pytest.approx(10 * OZ,
                                                                                 rel=1e-6))
    cocoa_tbsp = need[(need["item"] == "cocoa") & (need["unit"] == "tbsp")].iloc[0]
    assert cocoa_tbsp["base_unit"] == "ml"
    assert cocoa_tbsp["quantity_base"] == pytest.approx(4 * 14.78676478125)


def test_expand_many_recipes_in_a_fixed_number_of_statements(family):
    with family.session() as ws:
        ids = dict(zip(ws.recipes.recipes()["item"], ws.recipes.recipes()["recipe_id"],
                       strict=True))
        with counting(family) as one:
            single = expand(ws, {int(ids["glaze"]): Decimal(1)})
        with counting(family) as many:
            several = expand(ws, {int(ids["brownie"]): Decimal(2),
                                  int(ids["frosting"]): Decimal("0.5"),
                                  int(ids["glaze"]): Decimal(3)})
    assert one.n_statements == many.n_statements == 1  # one recursive SELECT
    assert list(single.columns[:4]) == ["ingredient_id", "item", "quantity", "unit"]
    got = {(r.item, r.unit): float(r.quantity) for r in several.itertuples()}
    # sugar: brownie 2*500 + frosting 0.5*400 + glaze 3*100 = 1500 g
    assert got[("sugar", "g")] == pytest.approx(1500)
    assert all(isinstance(i, int) for i in several["ingredient_id"])
    assert all(isinstance(v, Decimal) for v in several["quantity"])


def test_a_recipe_reached_by_two_paths_is_counted_on_both(stocked):
    with stocked.session() as ws:
        r = ws.recipes
        r.add("base", "Base", ingredients=[("flour", 100, "g")])
        r.add("left", "Left", ingredients=[], components=[("base", 2)])
        r.add("right", "Right", ingredients=[("flour", 1, "oz")], components=[("base", 3)])
        r.add("top", "Top", ingredients=[("sugar", 1, "cup")],
              components=[("left", 1), ("right", 0.5)])
        got = rows(ws.recipes.ingredients_for("top", batches=2))
    # base: 2 * (1*2 + 0.5*3) = 7 batches = 700 g; right's own 2*0.5*1 oz; first unit seen
    # (depth first: top, left, base, right) is base's g
    assert got[("flour", "g")] == pytest.approx(700 + OZ, rel=1e-9)
    assert got[("sugar", "cup")] == pytest.approx(2)


def test_cycle_is_refused_naming_the_path(family):
    before = snapshot(family)
    with family.session() as ws:
        with pytest.raises(RecipeCycleError) as info:
            ws.recipes.update("glaze", components=[("brownie", 1)])
        assert info.value.path == ["glaze", "brownie", "frosting", "glaze"]
        assert "glaze -> brownie -> frosting -> glaze" in str(info.value)
        with pytest.raises(RecipeCycleError) as info:
            ws.recipes.update("glaze", components=[("glaze", 1)])
        assert info.value.path == ["glaze", "glaze"]
        # the workspace goes on: nothing of the refused updates is left
        assert ws.recipes.ingredients_for("glaze")["item"].tolist() == ["sugar", "butter"]
        ws.commit()
    assert snapshot(family) == before


def test_add_update_delete_are_atomic(family):
    assert_atomic(family, lambda ws: ws.recipes.add(
        "cake", "Cake", ingredients=[("flour", 2, "cup"), ("sugar", 1, "cup")],
        components=[("frosting", 1), ("glaze", 0.25)],
        finished_units=[("cake-slice", "Slice", 12, "each"), ("cake-whole", "Cake", 1,
                                                              "each")]))
    assert_atomic(family, lambda ws: ws.recipes.update(
        "brownie", name="Fudge brownies", notes="rich", ingredients=[("flour", 1, "cup")],
        components=[("glaze", 1)],
        finished_units=[("brownie-square", "Square", 20, "each"),
                        ("brownie-bar", "Bar", 8, "each")]))
    with family.session() as ws:
        ws.recipes.add("spare", "Spare", ingredients=[("flour", 1, "g")],
                       components=[("glaze", 1)],
                       finished_units=[("spare-bit", "Bit", 3, "each")])
        ws.commit()
    assert_atomic(family, lambda ws: ws.recipes.delete("spare"))


def test_update_replaces_lists_and_adds_or_updates_finished_units(family):
    with family.session() as ws:
        ws.recipes.update("brownie", ingredients=[("flour", 1, "cup")],
                          components=[("glaze", 1)], name="Fudge brownies",
                          finished_units=[("brownie-square", "Square", 20, "each"),
                                          ("brownie-bar", "Bar", 8, "each")])
        need = rows(ws.recipes.ingredients_for("brownie"))
        assert need == {("flour", "cup"): 1.0, ("sugar", "g"): 100.0,
                        ("butter", "tbsp"): 2.0}
        listed = ws.recipes.recipes().set_index("item")
        assert listed.loc["brownie", "name"] == "Fudge brownies"
        assert listed.loc["brownie", "finished_units"] == "brownie-bar, brownie-square"
        assert (listed.loc["brownie", "ingredients"], listed.loc["brownie", "components"]) == (
            1, 1)
        with pytest.raises(ValidationError, match="another recipe") as info:
            ws.recipes.update("glaze", finished_units=[("brownie-bar", "Bar", 8, "each")])
        assert info.value.value == "brownie-bar"
        with pytest.raises(ValidationError, match="flavour") as info:
            ws.recipes.update("glaze", flavour="lemon")
        assert info.value.field == "flavour"


def test_delete_is_refused_while_in_use(family):
    with family.session() as ws:
        with pytest.raises(InUseError, match="frosting") as info:
            ws.recipes.delete("glaze")
        assert info.value.value == "glaze"
        ws.catalog.update_ingredient("cocoa", density="1 cup = 3 oz")
        ws.production.record("brownie-square", batches=1)
        with pytest.raises(InUseError, match="brownie") as info:
            ws.recipes.delete("brownie")
        assert "runs" in str(info.value) or "lots" in str(info.value)
        ws.recipes.update("frosting", components=[])
        ws.recipes.delete("glaze")  # no longer used by anything
        assert "glaze" not in set(ws.recipes.recipes()["item"])


def test_cost_is_fifo_at_current_stock_with_reasons_for_uncosted_lines(family):
    with family.session() as ws:
        ws.recipes.add("cookie", "Cookies", ingredients=[
            ("flour", 1, "lb"), ("sugar", 8, "oz"), ("butter", 1, "cup")],
            finished_units=[("cookie", "Cookie", 24, "each")])
        cost = ws.recipes.cost("cookie", batches=2).set_index("item")
        # flour 2 lb of the Jan lot @3.60; sugar 1 lb @1.00; butter 2 cup = 1 lb @5.75
        assert cost.loc["flour", "cost"] == pytest.approx(7.20)
        assert cost.loc["sugar", "cost"] == pytest.approx(1.00)
        assert cost.loc["butter", "cost"] == pytest.approx(5.75, rel=1e-6)
        assert cost["note"].isna().all()
        # 7 lb of flour spans two lots: 5 @3.60 + 2 @4.00
        assert ws.recipes.cost("cookie", batches=7).loc[0, "cost"] == pytest.approx(26.0)
        short = ws.recipes.cost("cookie", batches=30).set_index("item")
        assert "not enough stock" in short.loc["flour", "note"]
        assert short.loc["flour", "cost"] == pytest.approx(18 + 20 + 45)
        # cocoa in tbsp: no density to reach the lots' ounces
        brownie = ws.recipes.cost("brownie")
        line = brownie[(brownie["item"] == "cocoa") & (brownie["unit"] == "tbsp")].iloc[0]
        assert "density" in line["note"] and line["cost"] is pd.NA  # unknown, never 0
        # an uncosted lot (price unknown) is named
        ws.catalog.add_ingredient("vanilla", "Vanilla")
        ws.catalog.add_product("vanilla-4oz", "vanilla", brand="X", name="Vanilla",
                               package_quantity=4, package_unit="fl oz")
        ws.inventory.purchase("vanilla-4oz", unit_cost=None, purchased_on="2025-01-01")
        ws.recipes.update("cookie", ingredients=[("vanilla", 1, "tsp")])
        line = ws.recipes.cost("cookie").iloc[0]
        assert "no price" in line["note"] and line["costed_quantity"] == 0
        assert line["cost"] is pd.NA


def test_bad_input_names_field_and_value(family):
    before = snapshot(family)
    with family.session() as ws:
        r = ws.recipes
        with pytest.raises(NotFoundError, match="nutmeg"):
            r.add("pie", "Pie", ingredients=[("nutmeg", 1, "tsp")])
        with pytest.raises(NotFoundError, match="custard"):
            r.add("pie", "Pie", ingredients=[], components=[("custard", 1)])
        with pytest.raises(UnitConversionError, match=r"ingredients\[1\] unit.*'handful'"):
            r.add("pie", "Pie", ingredients=[("flour", 1, "cup"), ("sugar", 1, "handful")])
        with pytest.raises(ValidationError, match=r"ingredients\[0\] quantity.*-1") as info:
            r.add("pie", "Pie", ingredients=[("flour", -1, "cup")])
        assert info.value.value == -1
        with pytest.raises(ValidationError, match=r"components\[0\] batches.*0") as info:
            r.add("pie", "Pie", ingredients=[], components=[("glaze", 0)])
        with pytest.raises(ValidationError, match="items_per_batch") as info:
            r.add("pie", "Pie", ingredients=[], finished_units=[("slice", "S", 0, "each")])
        with pytest.raises(ValidationError, match="already exists") as info:
            r.add("glaze", "Glaze", ingredients=[])
        assert (info.value.field, info.value.value) == ("slug", "glaze")
        with pytest.raises(ValidationError, match="batches") as info:
            r.ingredients_for("brownie", batches=0)
        assert (info.value.field, info.value.value) == ("batches", 0)
        with pytest.raises(NotFoundError, match="nope"):
            r.cost("nope")
        ws.commit()
    assert snapshot(family) == before
