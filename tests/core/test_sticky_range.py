"""Ranges that stay put while a curve grows."""

from __future__ import annotations

import pytest

from studio.core.sticky_range import nice_ceiling, sticky_span


@pytest.mark.parametrize(("value", "expected"), [
    (0.3, 0.5), (1.0, 1.0), (1.01, 2.0), (2.5, 5.0), (7.0, 10.0), (10.0, 10.0), (11.0, 20.0),
    (0.0, 1.0), (-3.0, 1.0),
])
def test_nice_ceiling(value, expected):
    assert nice_ceiling(value) == pytest.approx(expected)


def test_a_range_stays_while_it_holds_the_data_and_is_at_most_twice_as_wide():
    first = sticky_span(None, 1.0, 2.0)
    assert first == pytest.approx((0.9, 2.1))
    assert sticky_span(first, 0.95, 2.0) is first  # still inside, still fills 88 %
    moved = sticky_span(first, 0.5, 2.0)  # below it: a new range around the data
    assert moved == pytest.approx((0.35, 2.15))
    assert sticky_span(moved, 1.9, 2.0) == pytest.approx((1.89, 2.01))  # fills 6 %: refitted


def test_a_flat_series_gets_a_range_around_it():
    assert sticky_span(None, 3.0, 3.0) == pytest.approx((2.7, 3.3))
    assert sticky_span(None, 0.0, 0.0) == pytest.approx((-0.1, 0.1))
