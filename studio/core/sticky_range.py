"""Axis ranges that stay put while a live curve grows.

A plot that fits its range to the data anew on every redraw redraws its axes every time too,
and in pyqtgraph the axes are the dearer part of a frame. These ranges change only now and
then: the x range grows in 1-2-5 steps, and the y range keeps a margin around the data and
changes only when the data leaves it or fills less than half of it.
"""

from __future__ import annotations

import math

#: The share of the data's span added on each side when the y range changes.
MARGIN = 0.1


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
    and the data fills at least half of it, else a new range with ``margin`` of the data's
    span on each side."""
    span = high - low
    if current is not None:
        bottom, top = current
        if bottom <= low and high <= top and span >= 0.5 * (top - bottom):
            return current
    if span <= 0:
        span = abs(high) or 1.0
    return low - margin * span, high + margin * span
