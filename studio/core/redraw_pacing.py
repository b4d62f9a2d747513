"""Paces the live plots' redraws so that the window's thread uses a bounded share of a core.

Why: the training shares the machine with the window. On two CPU cores, ten repaints a
second of the four training plots took a third of a core, which the training then lacked.
So the redraw timer measures the CPU time its thread used since the last tick, for
everything: events, progress, painting. It stretches or shortens its interval to keep that
near ``SHARE``, between ``FASTEST_MS`` and ``SLOWEST_MS``. Where drawing is cheap (a fast
machine), the plots redraw at the fastest rate. Where it is dear, they redraw less often,
never less than once a second. Each tick redraws one plot (the next with new points), so
one pass of the event loop never paints them all at once: that pass froze the window for
50-90 ms.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: The share of one core that the window's thread may use while a training runs.
SHARE = 0.04
FASTEST_MS = 25
SLOWEST_MS = 1000


class RedrawPacer:
    """The next tick's interval, from the CPU time the calling thread used since the last."""

    def __init__(self, share: float = SHARE, *,
                 cpu_clock: Callable[[], float] = time.thread_time,
                 wall_clock: Callable[[], float] = time.perf_counter) -> None:
        self.share = share
        self._cpu_clock, self._wall_clock = cpu_clock, wall_clock
        self.interval_ms = float(FASTEST_MS)
        self.restart()

    def restart(self) -> None:
        """Measure from now (a training starts)."""
        self._cpu, self._wall = self._cpu_clock(), self._wall_clock()

    def next_interval_ms(self) -> int:
        """Called on every tick, on the thread being paced."""
        cpu, wall = self._cpu_clock(), self._wall_clock()
        elapsed = wall - self._wall
        if elapsed <= 0:
            return round(self.interval_ms)
        used = (cpu - self._cpu) / elapsed
        self._cpu, self._wall = cpu, wall
        # A square root damps the correction, so one heavy tick does not swing the rate.
        factor = (max(used, 1e-3) / self.share) ** 0.5
        self.interval_ms = min(SLOWEST_MS, max(FASTEST_MS, self.interval_ms * factor))
        return round(self.interval_ms)
