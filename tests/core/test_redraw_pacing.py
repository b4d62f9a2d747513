"""The redraw pacer keeps drawing the live plots near its share of a core."""

from __future__ import annotations

from studio.core.redraw_pacing import FASTEST_MS, SLOWEST_MS, RedrawPacer


def _settle(pacer: RedrawPacer, cost_s: float, ticks: int = 40) -> int:
    interval = FASTEST_MS
    for _ in range(ticks):
        interval = pacer.next_interval_ms(cost_s)
    return interval


def test_dear_redraws_slow_down_until_they_use_the_share():
    # 10 ms per redraw (its data and its paint) at 4 % of a core: one every 250 ms.
    assert abs(_settle(RedrawPacer(0.04), 0.010) - 250) <= 2


def test_the_rate_follows_one_heavy_redraw_only_halfway():
    pacer = RedrawPacer(0.04)
    settled = _settle(pacer, 0.010)
    assert settled < pacer.next_interval_ms(0.040) < 1000  # 40 ms would want 1 s


def test_cheap_redraws_run_at_the_fastest_rate():
    assert _settle(RedrawPacer(0.04), 0.0002) == FASTEST_MS


def test_never_slower_than_once_a_second():
    assert _settle(RedrawPacer(0.04), 0.5) == SLOWEST_MS


def test_ticks_without_a_redraw_leave_the_rate_alone():
    """Nothing to draw (a run starting, its first epoch tracing) says nothing about what a
    redraw costs: it must not make the next redraws come at the fastest rate."""
    pacer = RedrawPacer(0.04)
    settled = _settle(pacer, 0.010)
    for _ in range(50):
        assert pacer.next_interval_ms(None) == settled
