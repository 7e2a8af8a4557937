"""Exact numbers on both backends: the ``Exact`` column type and its SQL helpers.

PostgreSQL keeps quantities and money in NUMERIC. SQLite has no exact decimal type, so
there an ``Exact(scale)`` column holds the value times ``10**scale`` as an INTEGER: sums,
differences and comparisons in SQL stay exact, and values come back as ``Decimal``.

SQLAlchemy keeps the type through ``func.sum``, ``func.coalesce``, ``+``, ``-`` and
comparisons, so those need nothing. What reads the stored number itself needs the
helpers here: ``cast(col, Float)`` is compiled to descale on SQLite (see ``_cast``), and
a product or quotient of columns is written with ``number(col)``.

>>> from sqlalchemy import select, func
>>> from bakekit.db import tables
>>> frame = ws.frame(select(func.sum(tables.lots.c.remaining).label("all")))
>>> type(frame.loc[0, "all"]).__name__
'Decimal'
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, Float, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import elements, functions, operators
from sqlalchemy.types import TypeDecorator, TypeEngine


class Exact(TypeDecorator[Decimal]):
    """A number kept exactly to ``scale`` places: NUMERIC(24, scale) on PostgreSQL, an
    INTEGER of ``value * 10**scale`` on SQLite.

    >>> Exact(9).process_bind_param(Decimal("1.5"), sqlite_dialect())
    1500000000
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, scale: int) -> None:
        super().__init__(precision=24, scale=scale)
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(24, self.scale))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return to_scaled(value, self.scale)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return from_scaled(value, self.scale)

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        # a literal compared with, added to or taken from an exact column is bound as
        # one (scaled on SQLite); a factor or divisor is a plain number
        if op in _SCALING:
            return Numeric(asdecimal=True)
        return self

    class Comparator(TypeDecorator.Comparator[Decimal]):
        """Refuses a product or quotient of two exact expressions: on SQLite both are
        scaled integers, so it would be silently wrong; write ``number(a) * number(b)``."""

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            _refuse(op, self.expr, other)
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            _refuse(op, self.expr, (other,))
            return super().reverse_operate(op, other, **kwargs)

    comparator_factory = Comparator

    @property
    def python_type(self) -> type:
        return Decimal


#: operators whose literal operand is a plain number, not a stored quantity
_SCALING = frozenset({operators.mul, operators.truediv, operators.floordiv, operators.mod})


def _refuse(op: Any, expr: Any, others: Any) -> None:
    if op in _SCALING and any(scale_of(o) is not None for o in others):
        raise TypeError(f"{op.__name__} of two exact expressions ({expr}): on SQLite "
                        "they are scaled integers; write number(a) * number(b)")


def to_scaled(value: Any, scale: int) -> int:
    """The stored integer of ``value`` at ``scale`` places (to nearest, ties to even).

    >>> to_scaled(Decimal("0.0046484375000000030"), 9), to_scaled(0.1, 10)
    (4648438, 1000000000)
    """
    if isinstance(value, float):
        value = Decimal(repr(value))
    elif not isinstance(value, Decimal):
        value = Decimal(value)
    return int(value.scaleb(scale).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_scaled(value: Any, scale: int) -> Decimal:
    """The Decimal a stored integer holds (a REAL, from SQL arithmetic that left the
    integers, is rounded to the scale).

    >>> from_scaled(24000000000, 9), from_scaled(-5, 10)
    (Decimal('24.000000000'), Decimal('-5E-10'))
    """
    if isinstance(value, float):
        return Decimal(repr(value)).scaleb(-scale).quantize(Decimal(1).scaleb(-scale))
    return Decimal(int(value)).scaleb(-scale)


def sqlite_dialect() -> Dialect:
    from sqlalchemy.dialects import sqlite

    return sqlite.dialect()


def scale_of(expr: Any) -> int | None:
    """The scale an expression's stored numbers carry on SQLite (None: not scaled). A
    CASE or a function (SUM, COALESCE, MIN, MAX) over an exact column carries its scale
    even when the first branch is a bare literal."""
    kind = getattr(expr, "type", None)
    if isinstance(kind, Exact):
        return kind.scale
    if isinstance(expr, elements.Label | elements.Grouping):
        return scale_of(expr.element)
    if isinstance(expr, elements.Case):
        branches = [then for _, then in expr.whens] + [expr.else_]
        scales = {scale_of(b) for b in branches if b is not None}
        scales.discard(None)
        return scales.pop() if len(scales) == 1 else None
    if isinstance(expr, functions.FunctionElement) and expr.name in _KEEPING:
        scales = {scale_of(c) for c in expr.clauses}
        scales.discard(None)
        return scales.pop() if len(scales) == 1 else None
    return None


#: SQL functions whose result is on the scale of their arguments
_KEEPING = frozenset({"sum", "coalesce", "min", "max", "abs", "total"})


class number(functions.FunctionElement[Decimal]):  # noqa: N801 (used as a function)
    """An exact column as a plain number in SQL, for products and quotients: the column
    itself on PostgreSQL, ``CAST(col AS REAL) / 10**scale`` on SQLite (a product there
    is a float, as it always was; sums of columns stay exact).

    >>> from bakekit.db import tables
    >>> lots = tables.lots
    >>> print(number(lots.c.remaining).compile(dialect=sqlite_dialect()))
    (CAST(lots.remaining AS REAL) / 1000000000)
    """

    name = "number"
    inherit_cache = True
    type = Numeric(asdecimal=True)

    def __init__(self, expr: Any) -> None:
        super().__init__(expr)

    @property
    def inner(self) -> Any:
        return self.clauses.clauses[0]


@compiles(number)
def _number(element: number, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.inner, **kw)})"


@compiles(number, "sqlite")
def _number_sqlite(element: number, compiler: Any, **kw: Any) -> str:
    inner = compiler.process(element.inner, **kw)
    scale = scale_of(element.inner)
    if scale is None:
        return f"CAST({inner} AS REAL)"
    return f"(CAST({inner} AS REAL) / {10 ** scale})"


@compiles(elements.Cast, "sqlite")
def _cast(element: elements.Cast, compiler: Any, **kw: Any) -> str:
    """``cast(exact, Float)`` on SQLite: the stored integer descaled, nearest double to
    the exact value."""
    scale = scale_of(element.clause)
    if isinstance(element.type, Float) and scale is not None:
        inner = compiler.process(element.clause, **kw)
        return f"(CAST({inner} AS REAL) / {10 ** scale})"
    return str(compiler.visit_cast(element, **kw))


__all__ = ["Exact", "from_scaled", "number", "scale_of", "to_scaled"]
