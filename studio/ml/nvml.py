"""NVIDIA's NVML (through ``pynvml``): GPU memory, utilisation and driver version.

TensorFlow reports none of these before it initialises a GPU, and initialising one takes
seconds and its memory; NVML asks the driver directly and costs microseconds a call, so the
device panel and the live utilisation plot use it. This module never imports TensorFlow.

The module is a seam: tests pass a fake with the same names. Without a driver, ``nvmlInit``
raises ``NVMLError_LibraryNotFound``; that is remembered and reported in plain words, and
every query then answers "nothing" instead of raising, so callers need no try/except.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any

from studio.core.utilisation import GpuStatus

_MB = 1024.0 * 1024.0

#: Plain words for the failures a user can act on; others are named as NVML names them.
_REASONS = {
    "NVMLError_LibraryNotFound":
        "The NVIDIA driver's NVML library was not found: no NVIDIA driver is installed.",
    "NVMLError_DriverNotLoaded":
        "The NVIDIA driver is installed but not loaded (reboot, or load its kernel module).",
    "NVMLError_NoPermission": "This user may not query the NVIDIA driver (NVML says: no "
                              "permission).",
    "NVMLError_LibRmVersionMismatch": "The NVIDIA driver was updated but the old one is still "
                                      "loaded: restart the computer.",
}


@dataclass(frozen=True)
class DriverInfo:
    driver_version: str  # e.g. "550.54.15"
    cuda_driver_version: str | None  # the newest CUDA the driver supports, e.g. "12.4"


def _text(value: Any) -> str:
    """Older pynvml releases return bytes for names and versions, newer ones str."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def cuda_version_text(version: int) -> str:
    """NVML's integer CUDA version (1000 * major + 10 * minor) as "major.minor"."""
    return f"{version // 1000}.{version % 1000 // 10}"


class Nvml:
    """NVML, initialised on first use, once, and safe to call from any thread."""

    def __init__(self, api: Any = None) -> None:
        if api is None:
            import pynvml

            api = pynvml
        self._api = api
        self._lock = threading.Lock()
        self._initialised = False
        self._reason: str | None = None  # None: not tried yet; "": available

    def _ensure(self) -> bool:
        """Call with the lock held. True once NVML has initialised."""
        if self._reason is None:
            try:
                self._api.nvmlInit()
            except self._api.NVMLError as error:
                self._reason = self._describe(error)
            except OSError as error:  # the library loaded but could not start
                self._reason = f"NVML could not start: {error}."
            else:
                self._initialised = True
                self._reason = ""
        return self._initialised

    @staticmethod
    def _describe(error: Exception) -> str:
        name = type(error).__name__
        return _REASONS.get(name) or f"NVML could not start ({name}: {error})."

    def available(self) -> bool:
        with self._lock:
            return self._ensure()

    def unavailable_reason(self) -> str:
        """Why NVML cannot be used, in plain words; "" when it can."""
        with self._lock:
            self._ensure()
            return self._reason or ""

    def driver(self) -> DriverInfo | None:
        with self._lock:
            if not self._ensure():
                return None
            api = self._api
            try:
                version = _text(api.nvmlSystemGetDriverVersion())
            except api.NVMLError:
                return None
            try:
                cuda: str | None = cuda_version_text(int(api.nvmlSystemGetCudaDriverVersion()))
            except api.NVMLError:
                cuda = None
            return DriverInfo(version, cuda)

    def gpus(self) -> list[GpuStatus]:
        """Every GPU the driver sees; one that fails to answer (fallen off the bus) is left
        out rather than hiding the others."""
        with self._lock:
            if not self._ensure():
                return []
            api = self._api
            try:
                count = int(api.nvmlDeviceGetCount())
            except api.NVMLError:
                return []
            found = []
            for index in range(count):
                try:
                    handle = api.nvmlDeviceGetHandleByIndex(index)
                    name = _text(api.nvmlDeviceGetName(handle))
                    memory = api.nvmlDeviceGetMemoryInfo(handle)
                    try:
                        busy: float | None = float(api.nvmlDeviceGetUtilizationRates(handle).gpu)
                    except api.NVMLError_NotSupported:
                        busy = None
                except api.NVMLError:
                    continue
                found.append(GpuStatus(index=index, name=name,
                                       memory_total_mb=memory.total / _MB,
                                       memory_used_mb=memory.used / _MB,
                                       utilisation_percent=busy))
            return found

    def shutdown(self) -> None:
        """Release NVML; a later call initialises it again."""
        with self._lock:
            if self._initialised:
                with contextlib.suppress(self._api.NVMLError):
                    self._api.nvmlShutdown()
            self._initialised = False
            self._reason = None
