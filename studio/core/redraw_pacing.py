"""Paces the live plots' redraws so that drawing them uses a bounded share of a core.

Why: the training shares the machine with the window. On two CPU cores, ten repaints a
second of the four training plots took a third of a core, which the training then lacked.
So each redraw's cost is measured: the thread CPU time of its data update and of that plot's
paint that follows (``ui.live_plot.MeteredPlotWidget``). The next interval is that cost /
``SHARE``, between ``FASTEST_MS`` and ``SLOWEST_MS``, damped halfway (a geometric mean with the
last interval) so that one heavy redraw does not swing the rate. Where drawing is cheap (a
fast machine), the plots redraw at the fastest rate; where it is dear, less often, never less
than once a second. A tick with nothing to draw leaves the interval as it is. Each tick
redraws one plot (the next with new points), so one pass of the event loop never paints them
all at once: that pass froze the window for 50-90 ms.

An earlier pacer measured all of the thread's CPU time instead. The window's other work
during a run (its events, progress and log) then used most of the share on two cores, which
held the plots at once a second; and the cheap ticks before the first batch sped it up to
the fastest rate just as the batches came, so each run began with a second of 40 redraws a
second.
"""

from __future__ import annotations

import math

#: The share of one core that drawing the live plots may use while a training runs. On two
#: cores each 1 % of a core that the window's thread uses costs the training about 0.45 %
#: of its speed (measured with a process that burnt 9 % in bursts beside it: 4 %). At 2 %,
#: each of the four plots is redrawn about once a second on two cores.
SHARE = 0.02
FASTEST_MS = 25
SLOWEST_MS = 1000


class RedrawPacer:
    """The next tick's interval, from what the last redraw cost."""

    def __init__(self, share: float = SHARE) -> None:
        self.share = share
        self.interval_ms = float(FASTEST_MS)

    def next_interval_ms(self, redraw_cost_s: float | None) -> int:
        """``redraw_cost_s``: the thread CPU time of the last tick's redraw and its paint;
        None when that tick drew nothing."""
        if redraw_cost_s is not None:
            target = max(redraw_cost_s, 0.0) * 1000 / self.share
            damped = math.sqrt(self.interval_ms * max(target, 1.0))
            self.interval_ms = min(SLOWEST_MS, max(FASTEST_MS, damped))
        return round(self.interval_ms)
