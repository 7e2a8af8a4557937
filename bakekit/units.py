"""Units of cooking measure on pint: names, dimensions, densities and cached conversion factors.

Every unit string and magic number of measure in bakekit lives here.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING

from bakekit.errors import UnitConversionError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    import pint

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

#: the exact size of every unit in the base of its dimension (g, ml, each, mm), as the
#: units are defined: 1 lb = 453.59237 g, 1 US gal = 231 in^3 = 3785.411784 ml, 1 in =
#: 25.4 mm. Derived once from these definitions (tests check them against pint); every
#: factor between two units is the exact ratio of two of these.
EXACT_SIZE: dict[str, Fraction] = {
    "g": Fraction(1), "kg": Fraction(1000), "mg": Fraction(1, 1000),
    "lb": Fraction("453.59237"), "oz": Fraction("453.59237") / 16,
    "ml": Fraction(1), "l": Fraction(1000),
    "gal": Fraction("3785.411784"), "qt": Fraction("3785.411784") / 4,
    "pt": Fraction("3785.411784") / 8, "cup": Fraction("3785.411784") / 16,
    "fl oz": Fraction("3785.411784") / 128, "tbsp": Fraction("3785.411784") / 256,
    "tsp": Fraction("3785.411784") / 768,
    "each": Fraction(1), "dozen": Fraction(12),
    "in": Fraction("25.4"), "ft": Fraction("25.4") * 12, "yd": Fraction("25.4") * 36,
    "m": Fraction(1000),
}

#: the units a count of things can be given in (a finished unit's ``item_unit``)
COUNT_UNITS = tuple(u for u, (_, dim) in CANONICAL_UNITS.items() if dim == COUNT)

#: decimal places kept for quantities and money in the database (9 and 10 places, and 15
#: for densities, are what a SQLite REAL, 15-16 significant digits, gives back exactly for
#: the sizes a bakery deals in: quantities below a million, densities below 8 g/ml)
QUANTITY_PLACES = 9
COST_PLACES = 10
#: decimal places kept for a density in grams per millilitre
RATIO_PLACES = 15

#: THE rule at the boundary of stock: a quantity smaller than this (in the unit it is
#: measured in, or the coarser of two units) is none. A lot whose remainder after a take
#: would be smaller is emptied by that take, and a shortfall smaller than this is no
#: shortfall. Quantities are stored to ``QUANTITY_PLACES`` (1e-9), three digits finer
#: than this resolution (1e-6), so the rounding of a thousand takes from one lot stays
#: below it: everything on hand can be taken, in any convertible unit, and an empty lot is
#: empty.
QUANTITY_RESOLUTION = Decimal("1e-6")
_RESOLUTION = Fraction(QUANTITY_RESOLUTION)

#: the context Fractions become Decimals in (well beyond any stored place)
_WIDE = Context(prec=60)
#: the quantum of each number of places bakekit keeps (costs, quantities, ratios)
_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(16)}



@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """pint's unit registry with bakekit's count units (each, dozen), built on first use
    only (conversions use ``EXACT_SIZE``; importing bakekit never loads pint). pint keeps
    its parsed definitions in bakekit's folder of the user cache directory, so later
    builds skip parsing its definition files; where that folder cannot be written the
    registry is built without a cache.

    >>> registry().Quantity(1, "cup").to("teaspoon").magnitude
    48.0
    """
    import pint

    built: pint.UnitRegistry
    try:
        built = pint.UnitRegistry(cache_folder=_cache_folder())
    except OSError:  # no writable cache directory: parse the definition files
        built = pint.UnitRegistry()
    built.define("each = [count] = ea_")
    built.define("dozen_each = 12 * each")
    return built


def _cache_folder() -> str:
    import platformdirs

    return str(platformdirs.user_cache_path("bakekit", appauthor=False) / "pint")


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


def _density(g_per_ml: Decimal | Fraction | float | str | None) -> Fraction | None:
    if g_per_ml is None:
        return None
    if isinstance(g_per_ml, Fraction):
        return g_per_ml
    return Fraction(g_per_ml if isinstance(g_per_ml, Decimal) else Decimal(str(g_per_ml)))


@lru_cache(maxsize=4096)
def _exact(from_unit: str, to_unit: str, g_per_ml: Fraction | None,
           item: str | None) -> Fraction:
    from_dim = CANONICAL_UNITS[from_unit][1]
    to_dim = CANONICAL_UNITS[to_unit][1]
    if from_dim == to_dim:
        return EXACT_SIZE[from_unit] / EXACT_SIZE[to_unit]
    if {from_dim, to_dim} == {MASS, VOLUME}:
        if g_per_ml is None:
            who = f"ingredient {item!r}" if item else "this item"
            raise UnitConversionError(
                f"cannot convert {from_unit} to {to_unit} for {who}: it has no density "
                f"(set one, e.g. density='1 cup = 4.42 oz')",
                item=item, from_unit=from_unit, to_unit=to_unit,
            )
        if from_dim == VOLUME:  # volume -> ml -> g -> target mass
            return EXACT_SIZE[from_unit] * g_per_ml / EXACT_SIZE[to_unit]
        return EXACT_SIZE[from_unit] / g_per_ml / EXACT_SIZE[to_unit]
    who = f" for {item!r}" if item else ""
    raise UnitConversionError(
        f"cannot convert {from_unit} ({from_dim}) to {to_unit} ({to_dim}){who}",
        item=item, from_unit=from_unit, to_unit=to_unit,
    )


def exact_factor(from_unit: str, to_unit: str, *,
                 g_per_ml: Decimal | Fraction | None = None,
                 item: str | None = None) -> Fraction:
    """The exact multiplier taking a quantity in ``from_unit`` to ``to_unit`` (a Fraction).

    >>> exact_factor("each", "dozen"), exact_factor("tbsp", "tsp")
    (Fraction(1, 12), Fraction(3, 1))
    """
    return _exact_cached(from_unit, to_unit, g_per_ml, item)


_ONE = Fraction(1)


@lru_cache(maxsize=8192)
def _exact_cached(from_unit: str, to_unit: str, g_per_ml: Decimal | Fraction | None,
                  item: str | None) -> Fraction:
    a, b = normalize_unit(from_unit), normalize_unit(to_unit)
    if a == b:
        return _ONE
    cross = CANONICAL_UNITS[a][1] != CANONICAL_UNITS[b][1]
    density = _density(g_per_ml) if cross else None
    return _exact(a, b, density, item if cross else None)


@lru_cache(maxsize=4096)
def _decimal_factor(exact: Fraction) -> Decimal:
    return to_places(exact, 28) if exact.denominator != 1 else Decimal(exact.numerator)


def factor(from_unit: str, to_unit: str, *, g_per_ml: Decimal | Fraction | None = None,
           item: str | None = None) -> Decimal:
    """The multiplier taking a quantity in ``from_unit`` to ``to_unit`` (cached), as a
    Decimal: exact where the ratio is a finite decimal (lb -> oz, gal -> ml), else to 28
    places; ``exact_factor`` gives the Fraction.

    Volume meets weight only through a density in grams per millilitre.

    >>> factor("lb", "oz")
    Decimal('16')
    """
    return _decimal_factor(exact_factor(from_unit, to_unit, g_per_ml=g_per_ml, item=item))


def to_places(value: Fraction | Decimal | int, places: int) -> Decimal:
    """A Fraction (or Decimal) rounded half-even to ``places`` decimal places.

    >>> to_places(Fraction(5, 12), 6)
    Decimal('0.416667')
    """
    quantum = _QUANTA.get(places) or Decimal(1).scaleb(-places)
    if type(value) is Decimal:  # the common case
        return value.quantize(quantum, context=_WIDE)
    if isinstance(value, Fraction):
        exact = _WIDE.divide(Decimal(value.numerator), Decimal(value.denominator))
        return exact.quantize(quantum, context=_WIDE)
    return Decimal(value).quantize(quantum, context=_WIDE)


def count_unit(item_unit: object, *, field: str = "item_unit") -> str:
    """The unit a finished unit is counted in: a count unit's canonical name ("each",
    "dozen", aliases such as "pcs" or "doz"), or a plain noun naming the thing itself
    ("cookie", "brownie": one of them, i.e. each, kept as written). A unit of measure
    (cup, lb, in) is refused with a ValidationError naming the field.

    >>> count_unit("Dozen"), count_unit("pcs"), count_unit("cookie")
    ('dozen', 'each', 'cookie')
    """
    if not isinstance(item_unit, str) or not item_unit.strip():
        raise ValidationError(f"{field}: {item_unit!r} is not a count unit (each, dozen)",
                              field=field, value=item_unit)
    try:
        unit = normalize_unit(item_unit, field=field)
    except UnitConversionError:
        return " ".join(item_unit.strip().split())  # a noun: the item itself, counted one by one
    if dimension(unit) != COUNT:
        raise ValidationError(
            f"{field}: {item_unit!r} is a unit of {dimension(unit)}, not a count; finished "
            f"units are counted ({', '.join(COUNT_UNITS)}, or the item's own name)",
            field=field, value=item_unit)
    return unit


def each_per(item_unit: str | None) -> Fraction:
    """How many single items one ``item_unit`` is: 12 for a dozen, 1 for each or a noun.

    >>> each_per("dozen"), each_per("cookie")
    (Fraction(12, 1), Fraction(1, 1))
    """
    if not item_unit:
        return Fraction(1)
    try:
        unit = normalize_unit(item_unit)
    except UnitConversionError:
        return Fraction(1)
    return exact_factor(unit, "each") if dimension(unit) == COUNT else Fraction(1)


def plain(value: Decimal) -> str:
    """A Decimal as plain text without trailing zeros (for snapshots and messages).

    >>> plain(Decimal("24.000000000000")), plain(Decimal("0.500"))
    ('24', '0.5')
    """
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def is_none(quantity: Fraction | Decimal) -> bool:
    """THE boundary rule: whether a remainder or a shortfall counts as nothing (it is below
    ``QUANTITY_RESOLUTION`` of the unit it is measured in).

    >>> is_none(Decimal("4e-12")), is_none(Decimal("0.001"))
    (True, False)
    """
    return abs(Fraction(quantity)) < _RESOLUTION


def convert(quantity: Decimal | float | int, from_unit: str, to_unit: str, *,
            g_per_ml: Decimal | None = None, item: str | None = None) -> Decimal:
    """Convert a quantity between cooking units, through a density where needed.

    >>> q(convert(Decimal("2"), "cup", "oz", g_per_ml=parse_density("1 cup = 4.42 oz")))
    Decimal('8.840000000')
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
    Decimal('0.5296')
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
        volume_ml, mass_g = Fraction(q1) * EXACT_SIZE[u1], Fraction(q2) * EXACT_SIZE[u2]
    else:
        volume_ml, mass_g = Fraction(q2) * EXACT_SIZE[u2], Fraction(q1) * EXACT_SIZE[u1]
    return to_places(mass_g / volume_ml, RATIO_PLACES)


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
    if positive and number < QUANTITY_RESOLUTION:  # would write nothing: none, by the rule
        raise ValidationError(f"{field}: {value!r} is too small (below {QUANTITY_RESOLUTION}, "
                              "the least bakekit tells from none)", field=field, value=value)
    if non_negative and number < 0:
        raise ValidationError(f"{field}: {value!r} must not be negative", field=field,
                              value=value)
    return number


def q(value: Decimal | Fraction) -> Decimal:
    """Round a quantity to the places the database keeps."""
    return to_places(value, QUANTITY_PLACES)


def money(value: Decimal | Fraction) -> Decimal:
    """Round an amount of money (or a cost per unit) to the places the database keeps."""
    return to_places(value, COST_PLACES)


#: the sign money is shown with in notebook panels
CURRENCY = "$"
