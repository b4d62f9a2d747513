"""Takes a utilisation sample about once a second while a training runs and signals it.

Sampling costs well under a millisecond (tests/benchmarks/bench_utilisation.py), so it runs
on a timer on the UI thread: a thread of its own would cost more in hand-offs than it saves,
and the training thread is never touched. The sampler (psutil and NVML, no TensorFlow) is
made on the first ``start``, so building the window imports neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

if TYPE_CHECKING:
    from studio.ml.utilisation import UtilisationSampler

INTERVAL_MS = 1000


class UtilisationMonitor(QObject):
    sampled = Signal(object)  # studio.core.utilisation.UtilisationSample

    def __init__(self, sampler: UtilisationSampler | None = None,
                 parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._sampler = sampler
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._sample)

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    @property
    def sampler(self) -> UtilisationSampler:
        if self._sampler is None:
            from studio.ml.utilisation import UtilisationSampler

            self._sampler = UtilisationSampler()
        return self._sampler

    def start(self) -> None:
        """Sample from now on; seconds count from this call (a new run starts at 0)."""
        self.sampler.restart()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def watch(self, pid: int) -> None:
        """Count the training's own process (see ``UtilisationSampler.watch``)."""
        self.sampler.watch(pid)

    def _sample(self) -> None:
        self.sampled.emit(self.sampler.sample())
