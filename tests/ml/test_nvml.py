"""NVML through a fake pynvml (two GPUs, one that cannot tell its load) and the real no-driver
path of this machine: answers in plain words, never an exception."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

from studio.core.utilisation import GpuStatus
from studio.ml.nvml import DriverInfo, Nvml

MB = 1024 * 1024


class NVMLError(Exception):
    pass


class NVMLError_LibraryNotFound(NVMLError):  # pynvml's own names
    pass


class NVMLError_NotSupported(NVMLError):
    pass


class NVMLError_GpuIsLost(NVMLError):
    pass


class FakeNvml:
    """The part of pynvml the studio uses, with the quirks of real releases (bytes names)."""

    NVMLError = NVMLError
    NVMLError_LibraryNotFound = NVMLError_LibraryNotFound
    NVMLError_NotSupported = NVMLError_NotSupported

    def __init__(self, init_error: Exception | None = None) -> None:
        self.init_error = init_error
        self.inits = 0
        self.shutdowns = 0
        self.lost: set[int] = set()
        self.cards = [
            {"name": b"NVIDIA GeForce RTX 4090", "total": 24_564 * MB, "used": 5_120 * MB,
             "busy": 87},
            {"name": "Tesla K80", "total": 12_288 * MB, "used": 0, "busy": None},
        ]

    def nvmlInit(self):
        self.inits += 1
        if self.init_error is not None:
            raise self.init_error

    def nvmlShutdown(self):
        self.shutdowns += 1

    def nvmlSystemGetDriverVersion(self):
        return b"550.54.15"

    def nvmlSystemGetCudaDriverVersion(self):
        return 12040

    def nvmlDeviceGetCount(self):
        return len(self.cards)

    def nvmlDeviceGetHandleByIndex(self, index):
        if index in self.lost:
            raise NVMLError_GpuIsLost()
        return index

    def nvmlDeviceGetName(self, handle):
        return self.cards[handle]["name"]

    def nvmlDeviceGetMemoryInfo(self, handle):
        card = self.cards[handle]
        return SimpleNamespace(total=card["total"], used=card["used"],
                               free=card["total"] - card["used"])

    def nvmlDeviceGetUtilizationRates(self, handle):
        busy = self.cards[handle]["busy"]
        if busy is None:
            raise NVMLError_NotSupported()
        return SimpleNamespace(gpu=busy, memory=10)


def test_two_gpus_with_memory_load_and_names():
    nvml = Nvml(FakeNvml())
    assert nvml.available() and nvml.unavailable_reason() == ""
    assert nvml.gpus() == [
        GpuStatus(0, "NVIDIA GeForce RTX 4090", 24_564.0, 5_120.0, 87.0),
        GpuStatus(1, "Tesla K80", 12_288.0, 0.0, None),  # NotSupported: load unknown
    ]
    assert nvml.gpus()[0].memory_percent == pytest.approx(100 * 5_120 / 24_564)


def test_driver_and_cuda_versions():
    assert Nvml(FakeNvml()).driver() == DriverInfo("550.54.15", "12.4")


def test_initialises_once_and_again_after_shutdown():
    api = FakeNvml()
    nvml = Nvml(api)
    assert api.inits == 0, "lazy: nothing happens until asked"
    for _ in range(3):
        nvml.gpus()
    nvml.driver()
    assert api.inits == 1
    nvml.shutdown()
    assert api.shutdowns == 1
    assert len(nvml.gpus()) == 2 and api.inits == 2


def test_a_lost_gpu_is_left_out_and_the_others_still_answer():
    api = FakeNvml()
    api.lost.add(0)
    assert [gpu.name for gpu in Nvml(api).gpus()] == ["Tesla K80"]


def test_no_driver_is_reported_in_words_and_queries_answer_nothing():
    api = FakeNvml(init_error=NVMLError_LibraryNotFound())
    nvml = Nvml(api)
    assert not nvml.available()
    assert nvml.unavailable_reason() == ("The NVIDIA driver's NVML library was not found: no "
                                         "NVIDIA driver is installed.")
    assert nvml.gpus() == [] and nvml.driver() is None
    assert api.inits == 1, "a failed start is remembered, not retried every second"
    nvml.shutdown()
    assert api.shutdowns == 0


def test_any_other_failure_is_named():
    class NVMLError_Timeout(NVMLError):
        def __str__(self):
            return "Timeout"

    nvml = Nvml(FakeNvml(init_error=NVMLError_Timeout()))
    assert not nvml.available()
    assert "NVMLError_Timeout" in nvml.unavailable_reason()
    assert "Timeout" in nvml.unavailable_reason()


def _has_driver() -> bool:
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError_LibraryNotFound:
        return False
    pynvml.nvmlShutdown()
    return True


def test_real_pynvml():
    """Without a driver (CI): not found, in words. With one: its GPUs and versions."""
    nvml = Nvml()
    try:
        if _has_driver():
            assert nvml.available() and nvml.unavailable_reason() == ""
            gpus = nvml.gpus()
            assert gpus and all(0 < g.memory_used_mb <= g.memory_total_mb for g in gpus)
            driver = nvml.driver()
            assert driver is not None and driver.driver_version[0].isdigit()
        else:
            assert not nvml.available()
            assert "no NVIDIA driver" in nvml.unavailable_reason()
            assert nvml.gpus() == [] and nvml.driver() is None
    finally:
        nvml.shutdown()


def test_importing_nvml_does_not_import_tensorflow():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, studio.ml.nvml, studio.ml.utilisation\n"
         "print('tensorflow' in sys.modules, 'keras' in sys.modules)"],
        capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.split() == ["False", "False"]
