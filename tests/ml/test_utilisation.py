"""The utilisation sampler reads this process for real (psutil) and GPUs through NVML."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from studio.core.utilisation import GpuStatus
from studio.ml.nvml import Nvml
from studio.ml.utilisation import UtilisationSampler
from tests.ml.test_nvml import FakeNvml


def _burn(seconds: float) -> int:
    end, n = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        n += sum(range(1000))
    return n


def test_a_real_sample_of_this_process_is_sane():
    sample = UtilisationSampler().sample()
    assert sample.rss_mb > 10  # Python, numpy and pytest alone
    assert sample.ram_total_mb > sample.rss_mb
    assert sample.ram_total_mb == psutil.virtual_memory().total / 1024**2
    assert 0 <= sample.cpu_percent <= 100
    assert 0 < sample.ram_percent < 100
    assert sample.seconds >= 0


def test_busy_cpu_shows_as_a_share_of_the_whole_machine():
    sampler = UtilisationSampler()
    sampler.restart()
    _burn(0.3)
    cpu = sampler.sample().cpu_percent
    # One busy thread is about one core: 100 / cores of the machine, give or take.
    cores = psutil.cpu_count() or 1
    assert 0.3 * 100 / cores < cpu <= 100


def test_seconds_count_from_restart():
    now = [100.0]
    sampler = UtilisationSampler(clock=lambda: now[0])
    now[0] = 103.5
    assert sampler.sample().seconds == 3.5
    sampler.restart()
    now[0] = 104.0
    assert sampler.sample().seconds == 0.5


def test_gpus_from_nvml_are_in_the_sample():
    sample = UtilisationSampler(nvml=Nvml(FakeNvml())).sample()
    assert [gpu.index for gpu in sample.gpus] == [0, 1]
    assert sample.gpus[0] == GpuStatus(0, "NVIDIA GeForce RTX 4090", 24_564.0, 5_120.0, 87.0)
    assert sample.gpus[1].utilisation_percent is None


def test_a_watched_training_process_counts_with_this_one():
    """The window's trainings run in a child process: its CPU and memory are the studio's."""
    busy = subprocess.Popen([sys.executable, "-c",
                             "import time\nbuf = bytearray(200 * 2**20)\nend = time.time() + 5\n"
                             "while time.time() < end: pass"])
    try:
        sampler = UtilisationSampler()
        alone = sampler.sample().rss_mb
        time.sleep(0.5)  # the child has allocated its 200 MB
        sampler.watch(busy.pid)
        sampler.restart()
        time.sleep(0.5)
        sample = sampler.sample()
        cores = psutil.cpu_count() or 1
        assert sample.rss_mb > alone + 150
        assert sample.cpu_percent > 0.5 * 100 / cores  # the child's busy loop
    finally:
        busy.kill()
        busy.wait()
    assert sampler.sample().rss_mb < alone + 50, "an ended process still counted"
