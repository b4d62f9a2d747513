"""One reading of what a training costs the machine: the process's CPU and memory, each GPU.

Plain data, taken about once a second by ``studio.ml.utilisation`` and plotted beside the
training curves, so it crosses threads and layers without Qt, psutil or NVML objects inside.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuStatus:
    """One NVIDIA GPU as NVML reports it, for the whole card (every process on it)."""

    index: int
    name: str
    memory_total_mb: float
    memory_used_mb: float
    #: Share of the last sample period the GPU was busy; None where the card cannot tell.
    utilisation_percent: float | None

    @property
    def memory_percent(self) -> float:
        return 100.0 * self.memory_used_mb / self.memory_total_mb if self.memory_total_mb else 0.0


@dataclass(frozen=True)
class UtilisationSample:
    """``seconds`` since the sampler started. ``cpu_percent`` is this process's CPU use as a
    share of the whole machine, 0-100 as a task manager shows it (all cores busy is 100, not
    100 per core), averaged since the previous sample. ``rss_mb`` is the process's resident
    memory and ``ram_total_mb`` the machine's physical memory."""

    seconds: float
    cpu_percent: float
    rss_mb: float
    ram_total_mb: float
    gpus: tuple[GpuStatus, ...] = ()

    @property
    def ram_percent(self) -> float:
        return 100.0 * self.rss_mb / self.ram_total_mb if self.ram_total_mb else 0.0
