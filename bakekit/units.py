"""Units of cooking measure on pint: names, dimensions, densities and cached conversion factors.

Every unit string and magic number of measure in bakekit lives here.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import pint

from bakekit.errors import UnitConversionError, ValidationError

MASS = "mass"
VOLUME = "volume"
COUNT = "count"
LENGTH = "length"

#: canonical unit name -> (pint expression, dimension)
CANONICAL_UNITS: dict[str, tuple[str, str]] = {
    "g": ("gram", MASS),
    "kg": ("kilogram", MASS),
    "mg": ("milligram", MASS),
    "oz": ("avoirdupois_ounce", MASS),
    "lb": ("avoirdupois_pound", MASS),
    "ml": ("milliliter", VOLUME),
    "l": ("liter", VOLUME),
    "tsp": ("teaspoon", VOLUME),
    "tbsp": ("tablespoon", VOLUME),
    "cup": ("cup", VOLUME),
    "fl oz": ("fluid_ounce", VOLUME),
    "pt": ("liquid_pint", VOLUME),
    "qt": ("liquid_quart", VOLUME),
    "gal": ("liquid_gallon", VOLUME),
    "each": ("each", COUNT),
    "dozen": ("dozen_each", COUNT),
    # ribbon and twine (packaging sold by length)
    "in": ("inch", LENGTH),
    "ft": ("foot", LENGTH),
    "yd": ("yard", LENGTH),
    "m": ("meter", LENGTH),
}

#: the unit every dimension is reported in, beside the item's own unit
BASE_UNIT = {MASS: "g", VOLUME: "ml", COUNT: "each", LENGTH: "in"}

_ALIASES: dict[str, str] = {
    "gram": "g", "grams": "g", "gr": "g",
    "kilogram": "kg", "kilograms": "kg", "kgs": "kg",
    "milligram": "mg", "milligrams": "mg",
    "ounce": "oz", "ounces": "oz", "wt oz": "oz", "oz wt": "oz",
    "pound": "lb", "pounds": "lb", "lbs": "lb", "#": "lb",
    "milliliter": "ml", "milliliters": "ml", "millilitre": "ml", "millilitres": "ml", "mls": "ml",
    "liter": "l", "liters": "l", "litre": "l", "litres": "l", "ltr": "l",
    "teaspoon": "tsp", "teaspoons": "tsp", "t": "tsp", "tsps": "tsp",
    "tablespoon": "tbsp", "tablespoons": "tbsp", "tbs": "tbsp", "tbl": "tbsp", "tbsps": "tbsp",
    "cups": "cup", "c": "cup",
    "fl_oz": "fl oz", "floz": "fl oz", "fl. oz": "fl oz", "fl. oz.": "fl oz",
    "fluid ounce": "fl oz", "fluid ounces": "fl oz", "fl.oz": "fl oz", "fl oz.": "fl oz",
    "pint": "pt", "pints": "pt",
    "quart": "qt", "quarts": "qt", "qts": "qt",
    "gallon": "gal", "gallons": "gal",
    "ea": "each", "ea.": "each", "count": "each", "ct": "each", "piece": "each", "pieces": "each",
    "unit": "each", "units": "each", "item": "each", "items": "each", "pc": "each", "pcs": "each",
    "whole": "each", "large": "each",
    "dozens": "dozen", "doz": "dozen",
    "inch": "in", "inches": "in", "linear_inches": "in", "linear inches": "in",
    "foot": "ft", "feet": "ft", "yard": "yd", "yards": "yd", "yds": "yd",
    "meter": "m", "meters": "m", "metre": "m", "metres": "m",
}

#: decimal places kept for quantities and money in the database
QUANTITY_PLACES = 6
COST_PLACES = 10

_registry: pint.UnitRegistry = pint.UnitRegistry()
_registry.define("each = [count] = ea_")
_registry.define("dozen_each = 12 * each")


def normalize_unit(unit: str, *, field: str = "unit") -> str:
    """Return the canonical name of a cooking unit.

    >>> normalize_unit("Cups"), normalize_unit("fl_oz"), normalize_unit("lbs")
    ('cup', 'fl oz', 'lb')
    """
    if not isinstance(unit, str) or not unit.strip():
        raise UnitConversionError(f"{field}: {unit!r} is not a unit", from_unit=str(unit))
    key = " ".join(unit.strip().lower().split())
    if key in CANONICAL_UNITS:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    raise UnitConversionError(
        f"{field}: unknown unit {unit!r} (known: {', '.join(CANONICAL_UNITS)})",
        from_unit=unit,
    )


def dimension(unit: str) -> str:
    """The dimension of a unit: ``"mass"``, ``"volume"`` or ``"count"``.

    >>> dimension("tbsp")
    'volume'
    """
    return CANONICAL_UNITS[normalize_unit(unit)][1]


def base_unit(unit: str) -> str:
    """The base unit (g, ml or each) of a unit's dimension.

    >>> base_unit("lb")
    'g'
    """
    return BASE_UNIT[dimension(unit)]


@lru_cache(maxsize=512)
def _same_dimension_factor(from_unit: str, to_unit: str) -> Decimal:
    magnitude = _registry.Quantity(1, CANONICAL_UNITS[from_unit][0]).to(
        CANONICAL_UNITS[to_unit][0]
    ).magnitude
    return Decimal(format(float(magnitude), ".12g"))


@lru_cache(maxsize=4096)
def _factor(from_unit: str, to_unit: str, g_per_ml: Decimal | None, item: str | None) -> Decimal:
    from_dim = CANONICAL_UNITS[from_unit][1]
    to_dim = CANONICAL_UNITS[to_unit][1]
    if from_dim == to_dim:
        return _same_dimension_factor(from_unit, to_unit)
    if {from_dim, to_dim} == {MASS, VOLUME}:
        if g_per_ml is None:
            who = f"ingredient {item!r}" if item else "this item"
            raise UnitConversionError(
                f"cannot convert {from_unit} to {to_unit} for {who}: it has no density "
                f"(set one, e.g. density='1 cup = 4.42 oz')",
                item=item, from_unit=from_unit, to_unit=to_unit,
            )
        if from_dim == VOLUME:  # volume -> ml -> g -> target mass
            return (_same_dimension_factor(from_unit, "ml") * g_per_ml
                    * _same_dimension_factor("g", to_unit))
        return (_same_dimension_factor(from_unit, "g") / g_per_ml
                * _same_dimension_factor("ml", to_unit))
    who = f" for {item!r}" if item else ""
    raise UnitConversionError(
        f"cannot convert {from_unit} ({from_dim}) to {to_unit} ({to_dim}){who}",
        item=item, from_unit=from_unit, to_unit=to_unit,
    )


def factor(from_unit: str, to_unit: str, *, g_per_ml: Decimal | None = None,
           item: str | None = None) -> Decimal:
    """The multiplier taking a quantity in ``from_unit`` to ``to_unit`` (cached).

    Volume meets weight only through a density in grams per millilitre.

    >>> factor("lb", "oz")
    Decimal('16')
    """
    a, b = normalize_unit(from_unit), normalize_unit(to_unit)
    if a == b:
        return Decimal(1)
    cross = CANONICAL_UNITS[a][1] != CANONICAL_UNITS[b][1]
    density = Decimal(g_per_ml) if cross and g_per_ml is not None else None
    return _factor(a, b, density, item if cross else None)


def convert(quantity: Decimal | float | int, from_unit: str, to_unit: str, *,
            g_per_ml: Decimal | None = None, item: str | None = None) -> Decimal:
    """Convert a quantity between cooking units, through a density where needed.

    >>> convert(Decimal("2"), "cup", "oz", g_per_ml=parse_density("1 cup = 4.42 oz"))
    Decimal('8.84000000000')
    """
    return to_decimal(quantity, "quantity") * factor(from_unit, to_unit, g_per_ml=g_per_ml,
                                                     item=item)


_DENSITY = re.compile(
    r"^\s*(?P<q1>[0-9]*\.?[0-9]+)\s*(?P<u1>[a-zA-Z][a-zA-Z_. ]*?)\s*=\s*"
    r"(?P<q2>[0-9]*\.?[0-9]+)\s*(?P<u2>[a-zA-Z][a-zA-Z_. ]*?)\s*$"
)


def parse_density(text: str) -> Decimal:
    """Parse a density such as ``"1 cup = 4.42 oz"`` into grams per millilitre.

    Either side may come first; one side is a volume, the other a weight.

    >>> round(parse_density("1 cup = 4.42 oz"), 4)
    Decimal('0.5299')
    """
    match = _DENSITY.match(text or "")
    if not match:
        raise ValidationError(
            f"density: {text!r} is not of the form '1 cup = 4.42 oz'", field="density", value=text
        )
    q1, q2 = Decimal(match["q1"]), Decimal(match["q2"])
    u1 = normalize_unit(match["u1"], field="density")
    u2 = normalize_unit(match["u2"], field="density")
    dims = {dimension(u1), dimension(u2)}
    if dims != {MASS, VOLUME} or q1 <= 0 or q2 <= 0:
        raise ValidationError(
            f"density: {text!r} must equate a positive volume and a positive weight",
            field="density", value=text,
        )
    if dimension(u1) == VOLUME:
        volume_ml, mass_g = q1 * factor(u1, "ml"), q2 * factor(u2, "g")
    else:
        volume_ml, mass_g = q2 * factor(u2, "ml"), q1 * factor(u1, "g")
    return (mass_g / volume_ml).quantize(Decimal("1e-10"))


def to_decimal(value: object, field: str, *, positive: bool = False,
               non_negative: bool = False) -> Decimal:
    """A finite Decimal from an int, float, str or Decimal, or a ValidationError naming the field.

    >>> to_decimal("2.5", "quantity", positive=True)
    Decimal('2.5')
    """
    if isinstance(value, bool) or value is None:
        raise ValidationError(f"{field}: {value!r} is not a number", field=field, value=value)
    try:
        number = Decimal(str(value).strip()) if isinstance(value, (str, float)) else Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(f"{field}: {value!r} is not a number", field=field,
                              value=value) from None
    if not number.is_finite():
        raise ValidationError(f"{field}: {value!r} is not a finite number", field=field,
                              value=value)
    if abs(number) >= Decimal("1e12"):
        raise ValidationError(f"{field}: {value!r} is too large", field=field, value=value)
    if positive and number <= 0:
        raise ValidationError(f"{field}: {value!r} must be greater than zero", field=field,
                              value=value)
    if non_negative and number < 0:
        raise ValidationError(f"{field}: {value!r} must not be negative", field=field,
                              value=value)
    return number


def q(value: Decimal) -> Decimal:
    """Round a quantity to the places the database keeps."""
    return value.quantize(Decimal(1).scaleb(-QUANTITY_PLACES))


def money(value: Decimal) -> Decimal:
    """Round an amount of money (or a cost per unit) to the places the database keeps."""
    return value.quantize(Decimal(1).scaleb(-COST_PLACES))


#: the sign money is shown with in notebook panels
CURRENCY = "$"
