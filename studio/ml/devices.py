"""Device inventory and the GPU memory policy, behind seams so tests can feed fake GPUs.

Listing physical devices does not initialise them, and NVML (not TensorFlow) reports memory
and driver versions, so the inventory never initialises a GPU. Memory growth and memory
limits only work before TensorFlow initialises the GPUs and raise RuntimeError after, which
is reported honestly as needing a restart.
"""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import keras
import psutil
import tensorflow as tf

from studio.core.devices import DeviceReport, GpuInfo, MemoryPolicy, MemoryPolicyResult
from studio.core.utilisation import GpuStatus
from studio.ml.nvml import Nvml

_MB = 1024 * 1024


class DeviceSource(Protocol):
    def list_gpus(self) -> list[Any]: ...
    def details(self, device: Any) -> Mapping[str, Any]: ...
    def set_memory_growth(self, device: Any, enabled: bool) -> None: ...
    def set_memory_limit(self, device: Any, limit_mb: int) -> None: ...


class TensorFlowDevices:
    """The real source: ``tf.config``."""

    def list_gpus(self) -> list[Any]:
        return list(tf.config.list_physical_devices("GPU"))

    def details(self, device: Any) -> Mapping[str, Any]:
        return dict(tf.config.experimental.get_device_details(device))

    def set_memory_growth(self, device: Any, enabled: bool) -> None:
        tf.config.experimental.set_memory_growth(device, enabled)

    def set_memory_limit(self, device: Any, limit_mb: int) -> None:
        tf.config.set_logical_device_configuration(
            device, [tf.config.LogicalDeviceConfiguration(memory_limit=limit_mb)])


def _name(device: Any) -> str:
    return str(getattr(device, "name", device))


def inventory(source: DeviceSource | None = None, nvml: Nvml | None = None) -> DeviceReport:
    source = source or TensorFlowDevices()
    nvml = nvml or Nvml()
    build = dict(tf.sysconfig.get_build_info())
    statuses = nvml.gpus()
    gpus = []
    for position, device in enumerate(source.list_gpus()):
        details = source.details(device)
        capability = details.get("compute_capability")
        status = _status_for(position, statuses)
        gpus.append(GpuInfo(
            name=_name(device),
            description=str(details.get("device_name", _name(device))),
            compute_capability=".".join(map(str, capability)) if capability else None,
            memory_total_mb=status.memory_total_mb if status else None,
            memory_free_mb=(status.memory_total_mb - status.memory_used_mb) if status else None,
        ))
    built_with_cuda = bool(build.get("is_cuda_build", False))
    driver = nvml.driver()
    return DeviceReport(
        tensorflow_version=tf.__version__,
        keras_version=keras.__version__,
        built_with_cuda=built_with_cuda,
        cuda_version=build.get("cuda_version"),
        cudnn_version=build.get("cudnn_version"),
        cpu_cores=os.cpu_count() or 1,
        gpus=tuple(gpus),
        no_gpu_reason=None if gpus else _no_gpu_reason(built_with_cuda, nvml),
        cpu_name=_cpu_name(),
        physical_cores=psutil.cpu_count(logical=False),
        ram_total_mb=psutil.virtual_memory().total / _MB,
        driver_version=driver.driver_version if driver else None,
        cuda_driver_version=driver.cuda_driver_version if driver else None,
        driver_note=nvml.unavailable_reason(),
    )


def _status_for(position: int, statuses: list[GpuStatus]) -> GpuStatus | None:
    """NVML numbers every GPU of the machine; TensorFlow only the visible ones, in the order
    CUDA_VISIBLE_DEVICES gives (numeric lists are followed; UUIDs are not matched)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    index = position
    if visible:
        numbers = [part.strip() for part in visible.split(",")]
        if not all(n.isdigit() for n in numbers) or position >= len(numbers):
            return None
        index = int(numbers[position])
    return next((s for s in statuses if s.index == index), None)


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def _no_gpu_reason(built_with_cuda: bool, nvml: Nvml) -> str:
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return "CUDA_VISIBLE_DEVICES hides every GPU from TensorFlow."
    if not built_with_cuda:
        return ("This TensorFlow build has no CUDA support; install the 'gpu' extra "
                "(pip install 'training-studio[gpu]') on a machine with an NVIDIA GPU.")
    if not nvml.available():
        return f"TensorFlow found no GPU. {nvml.unavailable_reason()}"
    return ("TensorFlow found no usable NVIDIA GPU: the driver may be too old for this "
            "TensorFlow build, or the card too old for its CUDA version.")


#: What this process has applied, per GPU: TensorFlow cannot change it again until restarted,
#: so asking again for the same policy is not a "next launch" change.
_in_effect: dict[str, tuple[bool, int]] = {}
_in_effect_lock = threading.Lock()
#: The window's process keeps memory growth on once it has left GPU memory to its trainings.
_growth_kept = False


def apply_memory_policy(policy: MemoryPolicy, source: DeviceSource | None = None
                        ) -> list[MemoryPolicyResult]:
    """Apply the wanted policy to every GPU; never claims success it did not have.

    TensorFlow refuses GPUs whose memory growth differs, so growth wanted on one GPU is
    applied to every GPU without a limit (and the message says so). TensorFlow's default
    (no growth, no limit) needs no applying: it is in effect even after initialisation.
    """
    source = source or TensorFlowDevices()
    devices = source.list_gpus()
    names = [_name(d) for d in devices]
    shared_growth = _growth_kept or any(policy.for_gpu(n)[0] for n in names)
    results = []
    with _in_effect_lock:
        for device, name in zip(devices, names, strict=True):
            _, limit = policy.for_gpu(name)
            growth = shared_growth and not limit
            text = (f"memory capped at {limit:,} MB" if limit else
                    "memory growth on" if growth else "memory growth off")
            if growth and not policy.for_gpu(name)[0]:
                text += " (TensorFlow needs the same growth on every GPU)"
            wanted = (growth, limit)
            if _in_effect.get(name, (False, 0)) == wanted:
                results.append(MemoryPolicyResult(name, growth, limit, True, f"{name}: {text}."))
                continue
            try:
                if limit:
                    source.set_memory_limit(device, limit)
                else:
                    source.set_memory_growth(device, growth)
            except RuntimeError:
                results.append(MemoryPolicyResult(
                    name, growth, limit, False,
                    f"{name}: {text} takes effect at the next launch (TensorFlow has already "
                    "initialised this GPU)."))
            else:
                _in_effect[name] = wanted
                results.append(MemoryPolicyResult(name, growth, limit, True, f"{name}: {text}."))
    return results


def leave_gpu_memory_to_training(source: DeviceSource | None = None
                                 ) -> list[MemoryPolicyResult]:
    """For the window's process, whose trainings run in child processes: take GPU memory
    as needed rather than nearly all of it at first use (TensorFlow's default), so that the
    children get the GPU. Called before anything initialises the GPUs."""
    global _growth_kept
    source = source or TensorFlowDevices()
    names = [_name(device) for device in source.list_gpus()]
    results = apply_memory_policy(MemoryPolicy(growth=dict.fromkeys(names, True)), source)
    _growth_kept = True  # a policy applied later here (the batch search) keeps it
    return results


def forget_applied_policy() -> None:
    """For tests: pretend this process has applied nothing yet."""
    global _growth_kept
    with _in_effect_lock:
        _in_effect.clear()
        _growth_kept = False


def split_cpu(count: int) -> None:
    """Present the CPU as ``count`` logical devices, so MirroredStrategy can be tried (and
    tested) without GPUs. Only possible before TensorFlow initialises its devices."""
    from studio.core.errors import StudioError

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError:
        raise StudioError("The CPU can only be split into logical devices before TensorFlow "
                          "starts using it; restart to change --cpu-devices.") from None
