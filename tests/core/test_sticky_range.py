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


def test_a_range_stays_while_it_holds_the_data_and_it_fills_a_third():
    first = sticky_span(None, 1.0, 2.0)
    assert first == pytest.approx((0.9, 2.1))
    assert sticky_span(first, 0.95, 2.0) is first  # still inside, still fills 88 %
    assert sticky_span(first, 1.5, 1.95) is first  # fills 38 %
    assert sticky_span(first, 1.6, 1.95) == pytest.approx((1.565, 1.985))  # 29 %: refitted


def test_the_side_the_data_left_by_gets_room_for_as_much_again():
    first = sticky_span(None, 1.0, 2.0)
    moved = sticky_span(first, 0.5, 2.0)  # a falling loss left it below
    assert moved == pytest.approx((0.0, 2.15)), "no room below zero where the data is not"
    assert sticky_span(moved, 0.3, 2.0) is moved  # the next steps down fit in that room
    negative = sticky_span((-1.0, 1.0), -3.0, 0.5)
    assert negative == pytest.approx((-3.0 - 3.5, 0.5 + 0.35))
    rising = sticky_span((0.0, 0.5), 0.1, 0.6)  # an accuracy left it above
    assert rising == pytest.approx((0.05, 1.0)), "no room above one where the data is not"


def test_changes_are_few_while_a_loss_falls():
    """A loss falling from 2.3 to 0.05 over 200 redraws (it had changed at most of them)."""
    span, changes = None, 0
    for step in range(1, 201):
        low, high = 2.3 / (1 + step / 10) ** 1.5, 2.3
        new = sticky_span(span, low, high)
        changes += new != span
        span = new
    assert changes <= 6, changes


def test_a_flat_series_gets_a_range_around_it():
    assert sticky_span(None, 3.0, 3.0) == pytest.approx((2.7, 3.3))
    assert sticky_span(None, 0.0, 0.0) == pytest.approx((0.0, 0.1))
    assert sticky_span(None, -2.0, -2.0) == pytest.approx((-2.2, -1.8))
