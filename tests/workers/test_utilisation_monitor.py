"""The utilisation monitor samples on a timer while started, and not after ``stop``."""

from __future__ import annotations

from studio.core.utilisation import UtilisationSample
from studio.ml.utilisation import UtilisationSampler
from studio.workers.utilisation_monitor import INTERVAL_MS, UtilisationMonitor


def test_samples_once_a_second_until_stopped(qtbot):
    monitor = UtilisationMonitor(UtilisationSampler())
    assert INTERVAL_MS == 1000 and not monitor.running
    seen: list[UtilisationSample] = []
    monitor.sampled.connect(seen.append)
    with qtbot.waitSignal(monitor.sampled, timeout=3000) as first:
        monitor.start()
        assert monitor.running
    sample = first.args[0]
    assert isinstance(sample, UtilisationSample) and sample.rss_mb > 10
    assert 0.8 < sample.seconds < 2.5  # about one interval after start
    monitor.stop()
    assert not monitor.running
    count = len(seen)
    with qtbot.assertNotEmitted(monitor.sampled, wait=1300):
        pass
    assert len(seen) == count


def test_restart_counts_seconds_from_the_new_start(qtbot):
    monitor = UtilisationMonitor(UtilisationSampler(), interval_ms=50)
    seen: list[UtilisationSample] = []
    monitor.sampled.connect(seen.append)
    monitor.start()
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=3000)
    monitor.stop()
    assert seen[-1].seconds >= 0.1
    with qtbot.waitSignal(monitor.sampled, timeout=3000) as again:
        monitor.start()
    monitor.stop()
    assert again.args[0].seconds < 0.5


def test_makes_its_own_sampler_when_given_none(qtbot):
    monitor = UtilisationMonitor(interval_ms=20)
    with qtbot.waitSignal(monitor.sampled, timeout=3000):
        monitor.start()
    monitor.stop()
    assert isinstance(monitor.sampler, UtilisationSampler)
