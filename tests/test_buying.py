"""The buying optimiser: hand-worked covers and a property against brute force."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bakekit.buying import Option, cover

CHIPS = [Option("chips-10oz", D(10), D("3.00")), Option("chips-72oz", D(72), D("15.00"))]


def test_three_small_bags_beat_one_big_bag():
    plan = cover(D(30), CHIPS)
    assert plan.packages == (("chips-10oz", 3),)
    assert plan.cost == D("9.00") and plan.left_over == 0 and plan.count == 3


def test_sizes_mix_when_that_is_cheapest():
    plan = cover(D(75), CHIPS)
    # one 72 and one 10 (18.00) beat eight 10s (24.00) and two 72s (30.00)
    assert plan.packages == (("chips-10oz", 1), ("chips-72oz", 1))
    assert plan.cost == D("18.00") and plan.left_over == D(7)


def test_a_big_need_is_mostly_the_size_cheapest_per_unit():
    plan = cover(D(1001), [Option("5lb", D(5), D(4)), Option("10lb", D(10), D("7.50")),
                           Option("25lb", D(25), D(15)), Option("50lb", D(50), D(28))])
    # twenty 50 lb bags (560) leave 1 lb; a 5 lb bag (4) is the cheapest way to close it
    assert plan.packages == (("5lb", 1), ("50lb", 20))
    assert plan.cost == D(564) and plan.left_over == D(4)


def test_equal_cost_goes_to_less_left_over():
    # 20 units: one 24 at 6.00 (4 left over) or two 10s at 3.00 (0 left over), both 6.00
    plan = cover(D(20), [Option("big", D(24), D("6.00")), Option("small", D(10), D("3.00"))])
    assert plan.packages == (("small", 2),)
    assert plan.cost == D("6.00") and plan.left_over == 0


def test_equal_cost_and_left_over_goes_to_fewer_packages():
    # 20 units: one 20 at 4.00, or two 10s at 2.00: same cost, nothing left over either way
    plan = cover(D(20), [Option("two-tens", D(10), D("2.00")), Option("twenty", D(20), D(4))])
    assert plan.packages == (("twenty", 1),)
    assert plan.count == 1


def test_nothing_short_buys_nothing():
    plan = cover(D(0), CHIPS)
    assert plan.packages == () and plan.cost == 0 and plan.count == 0


def test_tolerance_absorbs_conversion_noise():
    plan = cover(D("20.0000001"), CHIPS, tolerance=D("0.000001"))
    assert plan.packages == (("chips-10oz", 2),) and plan.left_over == 0


def test_a_free_package_is_taken_and_dearer_ones_not():
    plan = cover(D(25), [Option("paid", D(10), D(1)), Option("free", D(10), D(0))])
    assert plan.packages == (("free", 3),) and plan.cost == 0


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="no options"):
        cover(D(1), [])
    with pytest.raises(ValueError, match="size"):
        cover(D(1), [Option("x", D(0), D(1))])
    with pytest.raises(ValueError, match="price"):
        cover(D(1), [Option("x", D(1), D(-1))])


def _brute_force(need: D, options: list[Option]) -> tuple[D, D, int]:
    """The least (cost, left over, count) over every count vector up to ceil(need/size)."""
    ranges = [range(math.ceil(need / o.size) + 1) for o in options]
    best = None
    for counts in itertools.product(*ranges):
        covered = sum((c * o.size for c, o in zip(counts, options, strict=True)), D(0))
        if covered < need:
            continue
        key = (sum((c * o.price for c, o in zip(counts, options, strict=True)), D(0)),
               covered - need, sum(counts))
        if best is None or key < best:
            best = key
    assert best is not None
    return best


sizes = st.decimals(min_value=D(2), max_value=D(25), places=1)
prices = st.decimals(min_value=D(0), max_value=D(20), places=2)


@settings(max_examples=200, deadline=None)
@given(need=st.decimals(min_value=D("0.1"), max_value=D(30), places=1),
       options=st.lists(st.tuples(sizes, prices), min_size=1, max_size=4))
def test_never_dearer_than_any_covering_combination(need, options):
    opts = [Option(f"p{i}", size, price) for i, (size, price) in enumerate(options)]
    plan = cover(need, opts)
    by_key = {o.key: o for o in opts}
    covered = sum((n * by_key[k].size for k, n in plan.packages), D(0))
    assert covered >= need and plan.covered == covered
    assert plan.cost == sum((n * by_key[k].price for k, n in plan.packages), D(0))
    assert (plan.cost, plan.left_over, plan.count) == _brute_force(need, opts)
