"""Units on pint: names, densities, conversion and its errors."""

from decimal import Decimal

import pytest

from bakekit.errors import UnitConversionError, ValidationError
from bakekit.units import convert, factor, normalize_unit, parse_density


@pytest.mark.parametrize("raw, canonical", [
    ("cup", "cup"), ("Cups", "cup"), ("TBSP", "tbsp"), ("tablespoons", "tbsp"),
    ("tsp", "tsp"), ("fl oz", "fl oz"), ("fl_oz", "fl oz"), ("ml", "ml"), ("L", "l"),
    ("qt", "qt"), ("oz", "oz"), ("lbs", "lb"), ("g", "g"), ("kg", "kg"), ("each", "each"),
])
def test_cooking_units_are_recognised(raw, canonical):
    assert normalize_unit(raw) == canonical


def test_unknown_unit_names_the_unit():
    with pytest.raises(UnitConversionError, match="'smidgen'"):
        normalize_unit("smidgen")


def test_same_dimension_factors():
    assert factor("lb", "oz") == Decimal(16)
    assert factor("cup", "tbsp") == Decimal(16)
    assert factor("tbsp", "tsp") == Decimal(3)
    assert factor("kg", "g") == Decimal(1000)
    assert abs(factor("qt", "cup") - 4) < Decimal("1e-9")


def test_density_parses_either_way_round():
    a = parse_density("1 cup = 4.42 oz")
    b = parse_density("4.42 oz = 1 cup")
    assert a == b
    assert abs(a - Decimal("0.52972")) < Decimal("0.0001")


def test_volume_to_weight_through_density():
    density = parse_density("1 cup = 4.42 oz")
    assert abs(convert(2, "cup", "oz", g_per_ml=density) - Decimal("8.84")) < Decimal("1e-6")
    assert abs(convert(Decimal("8.84"), "oz", "cup", g_per_ml=density) - 2) < Decimal("1e-6")


def test_volume_to_weight_without_density_names_ingredient_and_units():
    with pytest.raises(UnitConversionError) as info:
        convert(1, "cup", "lb", item="cocoa")
    assert info.value.item == "cocoa"
    assert "cup" in str(info.value) and "lb" in str(info.value) and "density" in str(info.value)


def test_count_does_not_meet_weight():
    with pytest.raises(UnitConversionError, match="each"):
        factor("each", "g", g_per_ml=Decimal(1))


@pytest.mark.parametrize("bad", ["", "1 cup", "cup = oz", "1 cup = 2 tbsp", "0 cup = 2 oz"])
def test_bad_density_is_refused(bad):
    with pytest.raises((ValidationError, UnitConversionError)):
        parse_density(bad)
