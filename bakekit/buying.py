"""What to buy: the least-cost set of packages that covers a shortfall (pure, no database).

``cover(need, options)`` is an exact, memoised branch and bound over whole package counts.
The options are package sizes in one common unit, each with its price; the answer is the
mix of packages (any sizes, any counts) whose total size reaches the need at the least
cost, ties broken by less left over, then by fewer packages, then (so the answer is always
the same) by more packages of the sizes cheapest per unit.

Why an exact search of our own rather than scipy.optimize.milp: the problem per
ingredient is tiny (a handful of sizes), the tie-breaks are lexicographic (a MILP would
need a weighted objective or three solves), prices and sizes are exact decimals (a MILP
works in floats), and it would add scipy for one function.

How it stays exact and small. Let ``b`` be the option with the lowest price per unit (the
largest such). For any choice of the other options' counts, the best count of ``b`` is
forced: the fewest that close the gap. So only the other options are branched on, and each
count ``n_j`` is bounded three ways:

- ``n_j <= ceil(need / s_j)``: more never helps (fewer would still cover the need);
- ``n_j < P`` where ``s_i / s_j = P / Q`` in lowest terms, for any larger option ``i`` no
  dearer per unit (``b`` among them): ``Q`` packages of ``i`` have the size of ``P`` of
  ``j``, cost no more and are fewer, so a best cover never holds ``P`` of ``j``;
- ``c_j + r_b * gap <= best``: ``r_b`` is ``b``'s price per unit, the cost of what is
  chosen so far plus ``r_b`` per unit of the gap still open is a lower bound of any
  completion, ``best`` the best completion found so far (at first: ``b`` alone). Any cover
  costs ``r_b * (need + left over) + sum(n_j * e_j)`` with ``e_j = p_j - r_b * s_j >= 0``,
  so ``n_j <= r_b * L_b / e_j`` where ``L_b < s_b`` is what ``b`` alone leaves over: a
  bound that does not grow with the need.

Options dominated by another (at least as large, strictly dearer per package) are dropped
first, and so are repeats of a size at the same price. Completions are memoised on (option,
gap still open), so the work is at most ``min(prod over j != b of (1 + cap_j),
(options) x (distinct gaps))``, ``cap_j`` the least of the three bounds: for sizes dearer
per unit than ``b`` it does not depend on the need (a 1,000 lb shortfall over five bag sizes
takes well under a millisecond); sizes at exactly ``b``'s price per unit share a grid and
are bounded by the grid (six such sizes and a need of 10,000: about half a second). All
arithmetic is in exact fractions: no floating point, no rounding.

>>> from decimal import Decimal as D
>>> plan = cover(D(30), [Option("bag-10oz", D(10), D("3.00")), Option("bag-72oz", D(72), D(15))])
>>> plan.packages, plan.cost, plan.left_over
((('bag-10oz', 3),), Decimal('9.00'), Decimal('0'))
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

__all__ = ["Cover", "Option", "cover"]


@dataclass(frozen=True)
class Option:
    """One way to buy: a package of ``size`` (in the need's unit) at ``price`` per package."""

    key: Hashable
    size: Decimal
    price: Decimal


@dataclass(frozen=True)
class Cover:
    """The packages to buy: ``packages`` is ``(key, count)`` per option bought, in the
    order the options were given; ``covered`` their total size, ``left_over`` what they
    cover beyond the need (never negative), ``count`` the number of packages."""

    packages: tuple[tuple[Hashable, int], ...]
    cost: Decimal
    covered: Decimal
    left_over: Decimal
    count: int


#: a completion: cost, left over, count, then negated counts in search order
_Best = tuple[Fraction, Fraction, int, tuple[int, ...]]


@dataclass(frozen=True)
class _Opt:
    index: int
    size: Fraction
    price: Fraction


def _ceil(x: Fraction) -> int:
    return max(0, math.ceil(x))


def _dominated(j: _Opt, others: Sequence[_Opt]) -> bool:
    """True when another option is at least as large and strictly cheaper per package, or is
    the same size at the same price and listed earlier."""
    for i in others:
        if i is j:
            continue
        if i.size >= j.size and i.price < j.price:
            return True
        if i.size == j.size and i.price == j.price and i.index < j.index:
            return True
    return False


def cover(need: Decimal | int, options: Sequence[Option], *,
          tolerance: Decimal | int = 0) -> Cover:
    """The cheapest whole packages covering ``need`` (see the module docstring for the rule
    and the bound). ``tolerance`` lets the packages fall short by that much (rounding noise
    of unit conversion); ``left_over`` is then measured against ``need`` and clipped at 0.

    Raises ``ValueError`` for no options, a size that is not positive or a negative price.

    >>> from decimal import Decimal as D
    >>> cover(D(75), [Option("s", D(10), D(3)), Option("l", D(72), D(15))]).packages
    (('s', 1), ('l', 1))
    """
    if not options:
        raise ValueError("cover: no options to buy from")
    opts = []
    for n, o in enumerate(options):
        size, price = Fraction(o.size), Fraction(o.price)
        if size <= 0:
            raise ValueError(f"cover: option {o.key!r} has size {o.size}; it must be positive")
        if price < 0:
            raise ValueError(f"cover: option {o.key!r} has price {o.price}; it must not be "
                             "negative")
        opts.append(_Opt(n, size, price))
    target = Fraction(need) - Fraction(tolerance)
    counts = [0] * len(opts)
    if target > 0:
        counts = _search(target, [o for o in opts if not _dominated(o, opts)], counts)
    covered = sum((Decimal(c) * options[i].size for i, c in enumerate(counts)), Decimal(0))
    cost = sum((Decimal(c) * options[i].price for i, c in enumerate(counts)), Decimal(0))
    return Cover(
        packages=tuple((options[i].key, c) for i, c in enumerate(counts) if c),
        cost=cost, covered=covered, left_over=max(covered - Decimal(need), Decimal(0)),
        count=sum(counts))


def _search(target: Fraction, opts: list[_Opt], counts: list[int]) -> list[int]:
    """Branch and bound over the counts of every option but the cheapest per unit, memoised
    on (option, gap still to cover)."""
    best_opt = min(opts, key=lambda o: (o.price / o.size, -o.size, o.index))
    r_b = best_opt.price / best_opt.size
    others = sorted((o for o in opts if o is not best_opt),
                    key=lambda o: (o.price / o.size, -o.size, o.index))
    caps = [_cap(target, o, opts) for o in others]
    n_others = len(others)
    memo: dict[tuple[int, Fraction], _Best] = {}

    def best_from(depth: int, gap: Fraction) -> _Best:
        """The best completion covering ``gap`` with others[depth:] and ``b``: (cost, left
        over, count, then more of the options searched first), and its counts."""
        if gap <= 0:
            return (Fraction(0), -gap, 0, (0,) * (n_others - depth + 1))
        if depth == n_others:
            k = _ceil(gap / best_opt.size)
            return (k * best_opt.price, k * best_opt.size - gap, k, (-k,))
        found = memo.get((depth, gap))
        if found is not None:
            return found
        o = others[depth]
        rest = best_from(depth + 1, gap)
        best = (rest[0], rest[1], rest[2], (0, *rest[3]))
        for c in range(1, caps[depth] + 1):
            cov = c * o.size
            spent = c * o.price
            # every package still to choose costs at least r_b per unit of the gap
            if spent + r_b * max(gap - cov, Fraction(0)) > best[0]:
                break
            rest = best_from(depth + 1, gap - cov)
            candidate = (spent + rest[0], rest[1], c + rest[2], (-c, *rest[3]))
            if candidate < best:
                best = candidate
            if cov >= gap:
                break  # more of this size only leaves more over
        memo[(depth, gap)] = best
        return best

    order = best_from(0, target)[3]
    result = list(counts)
    for o, c in zip([*others, best_opt], order, strict=True):
        result[o.index] = -c
    return result


def _cap(target: Fraction, j: _Opt, opts: Sequence[_Opt]) -> int:
    """The most packages of ``j`` a best cover can hold: no more than cover the need alone,
    and fewer than ``P`` where ``s_i / s_j = P / Q`` for any larger option ``i`` no dearer per
    unit (``Q`` packages of ``i`` replace ``P`` of ``j``: same size, no dearer, fewer)."""
    cap = _ceil(target / j.size)
    for i in opts:
        if i is not j and i.size > j.size and i.price * j.size <= j.price * i.size:
            cap = min(cap, (i.size / j.size).numerator - 1)
    return cap
