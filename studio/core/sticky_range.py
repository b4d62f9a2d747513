"""Axis ranges that stay put while a live curve grows.

A plot that fits its range to the data anew on every redraw redraws its axes every time too,
and in pyqtgraph the axes are the dearer part of a frame. These ranges change only now and
then: the x range grows in 1-2-5 steps (where a run's length is not known: live plots span
the planned epochs), and the y range keeps a margin around the data and
changes only when the data leaves it or fills less than a third of it. When the data leaves
it, the side it left by gets room for as much again (``GROWTH``), so a falling loss changes
the range a few times in a run rather than at nearly every redraw; that room never reaches
past 0 or 1 where the data has not (a loss stays above zero, an accuracy below one).
"""

from __future__ import annotations

import math

#: The share of the data's span added on each side when the y range changes.
MARGIN = 0.1
#: The share of the data's span added on a side that the data has left by.
GROWTH = 1.0
#: The range is fitted anew when the data fills less than this share of it.
FILL_AT_LEAST = 1 / 3


def nice_ceiling(value: float) -> float:
    """The smallest of ..., 0.5, 1, 2, 5, 10, 20, ... that is at least ``value`` (> 0)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10.0 * power


def sticky_span(current: tuple[float, float] | None, low: float, high: float,
                margin: float = MARGIN) -> tuple[float, float]:
    """The y range to show data from ``low`` to ``high``: ``current`` while it holds the data
    and the data fills at least ``FILL_AT_LEAST`` of it, else a new range with ``margin`` of
    the data's span on each side, or ``GROWTH`` on a side the data left ``current`` by."""
    span = high - low
    left_below = left_above = False
    if current is not None:
        bottom, top = current
        if bottom <= low and high <= top and span >= FILL_AT_LEAST * (top - bottom):
            return current
        left_below, left_above = low < bottom, high > top
    if span <= 0:
        span = abs(high) or 1.0
    new_low = low - (GROWTH if left_below else margin) * span
    new_high = high + (GROWTH if left_above else margin) * span
    if low >= 0:  # no room below zero, nor above one, where the data is not
        new_low = max(new_low, 0.0)
        if high <= 1:
            new_high = min(new_high, 1.0)
    return new_low, new_high
