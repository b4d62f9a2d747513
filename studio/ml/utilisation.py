"""Samples the studio's CPU and memory (psutil: the window's process and the training's)
and every NVIDIA GPU (NVML).

One ``sample()`` reads a few /proc files and, with a driver, asks NVML a few questions: well
under a millisecond, so taking one a second costs training nothing measurable (see
tests/benchmarks/bench_utilisation.py). Neither psutil nor NVML imports TensorFlow, so the
window can sample before TensorFlow has loaded.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psutil

from studio.core.utilisation import UtilisationSample
from studio.ml.nvml import Nvml

_MB = 1024.0 * 1024.0


class UtilisationSampler:
    def __init__(self, nvml: Nvml | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._nvml = nvml if nvml is not None else Nvml()
        self._clock = clock
        self._process = psutil.Process()
        self._training: psutil.Process | None = None  # the training's own process, if any
        self._cores = psutil.cpu_count() or 1
        # Physical memory does not change while the studio runs: read once.
        self._ram_total_mb = psutil.virtual_memory().total / _MB
        self._origin = 0.0
        self.restart()

    def restart(self) -> None:
        """Count seconds from now, and measure the next sample's CPU share from now."""
        self._origin = self._clock()
        # psutil measures CPU use between two calls; the first one only sets the start.
        self._process.cpu_percent(interval=None)

    def watch(self, pid: int) -> None:
        """Count the process that trains (a child of the window) with the window's own."""
        try:
            self._training = psutil.Process(pid)
            self._training.cpu_percent(interval=None)
        except psutil.Error:
            self._training = None  # it has already ended

    def sample(self) -> UtilisationSample:
        # psutil's process share is per core (400% on four busy cores): divided by the
        # logical cores to read like a task manager's, 0-100 for the whole machine.
        cpu = self._process.cpu_percent(interval=None)
        rss = self._process.memory_info().rss
        if self._training is not None:
            try:
                cpu += self._training.cpu_percent(interval=None)
                rss += self._training.memory_info().rss
            except psutil.Error:
                self._training = None  # it has ended
        return UtilisationSample(
            seconds=self._clock() - self._origin,
            cpu_percent=min(100.0, cpu / self._cores),
            rss_mb=rss / _MB,
            ram_total_mb=self._ram_total_mb,
            gpus=tuple(self._nvml.gpus()),
        )
