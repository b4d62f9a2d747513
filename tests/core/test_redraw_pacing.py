"""The redraw pacer keeps the window thread's CPU share near its target."""

from __future__ import annotations

from studio.core.redraw_pacing import FASTEST_MS, SLOWEST_MS, RedrawPacer


class _Clocks:
    def __init__(self) -> None:
        self.cpu = 0.0
        self.wall = 0.0


def _pacer(clocks: _Clocks, share: float = 0.04) -> RedrawPacer:
    return RedrawPacer(share, cpu_clock=lambda: clocks.cpu, wall_clock=lambda: clocks.wall)


def _run(pacer: RedrawPacer, clocks: _Clocks, cost_per_tick_s: float, ticks: int) -> int:
    """Ticks whose redraw costs ``cost_per_tick_s`` of CPU each; the last interval (ms)."""
    interval = pacer.next_interval_ms()
    for _ in range(ticks):
        clocks.wall += interval / 1000
        clocks.cpu += cost_per_tick_s
        interval = pacer.next_interval_ms()
    return interval


def test_dear_redraws_slow_down_until_they_use_the_share():
    clocks = _Clocks()
    pacer = _pacer(clocks)
    interval = _run(pacer, clocks, cost_per_tick_s=0.010, ticks=60)
    # 10 ms per redraw at 4 % of a core: one every 250 ms.
    assert abs(interval - 250) < 15


def test_cheap_redraws_run_at_the_fastest_rate():
    clocks = _Clocks()
    pacer = _pacer(clocks)
    assert _run(pacer, clocks, cost_per_tick_s=0.0002, ticks=30) == FASTEST_MS


def test_never_slower_than_once_a_second():
    clocks = _Clocks()
    pacer = _pacer(clocks)
    assert _run(pacer, clocks, cost_per_tick_s=0.5, ticks=30) == SLOWEST_MS


def test_restart_forgets_the_time_before_it():
    clocks = _Clocks()
    pacer = _pacer(clocks)
    clocks.cpu, clocks.wall = 5.0, 5.0  # a busy stretch before the training started
    pacer.restart()
    clocks.wall += 0.025
    assert pacer.next_interval_ms() == FASTEST_MS
