"""Device inventory and GPU memory growth, behind a seam so tests can feed fake GPUs.

Listing physical devices does not initialise them; ``set_memory_growth`` only works before
they are initialised and raises RuntimeError after, which is reported honestly as needing a
restart.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

import keras
import tensorflow as tf

from studio.core.devices import DeviceReport, GpuInfo, MemoryGrowthResult


class DeviceSource(Protocol):
    def list_gpus(self) -> list[Any]: ...
    def details(self, device: Any) -> Mapping[str, Any]: ...
    def set_memory_growth(self, device: Any, enabled: bool) -> None: ...


class TensorFlowDevices:
    """The real source: ``tf.config``."""

    def list_gpus(self) -> list[Any]:
        return list(tf.config.list_physical_devices("GPU"))

    def details(self, device: Any) -> Mapping[str, Any]:
        return dict(tf.config.experimental.get_device_details(device))

    def set_memory_growth(self, device: Any, enabled: bool) -> None:
        tf.config.experimental.set_memory_growth(device, enabled)


def _name(device: Any) -> str:
    return str(getattr(device, "name", device))


def inventory(source: DeviceSource | None = None) -> DeviceReport:
    source = source or TensorFlowDevices()
    build = dict(tf.sysconfig.get_build_info())
    gpus = []
    for device in source.list_gpus():
        details = source.details(device)
        capability = details.get("compute_capability")
        gpus.append(GpuInfo(
            name=_name(device),
            description=str(details.get("device_name", _name(device))),
            compute_capability=".".join(map(str, capability)) if capability else None,
        ))
    built_with_cuda = bool(build.get("is_cuda_build", False))
    return DeviceReport(
        tensorflow_version=tf.__version__,
        keras_version=keras.__version__,
        built_with_cuda=built_with_cuda,
        cuda_version=build.get("cuda_version"),
        cudnn_version=build.get("cudnn_version"),
        cpu_cores=os.cpu_count() or 1,
        gpus=tuple(gpus),
        no_gpu_reason=None if gpus else _no_gpu_reason(built_with_cuda),
    )


def _no_gpu_reason(built_with_cuda: bool) -> str:
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return "CUDA_VISIBLE_DEVICES hides every GPU from TensorFlow."
    if not built_with_cuda:
        return "This TensorFlow build has no CUDA support; install the 'gpu' extra."
    return ("TensorFlow found no usable NVIDIA GPU: no card, no driver, or a driver too old "
            "for this TensorFlow build.")


def apply_memory_growth(policy: Mapping[str, bool], source: DeviceSource | None = None
                        ) -> list[MemoryGrowthResult]:
    """Apply the wanted memory growth to every GPU; never claims success it did not have."""
    source = source or TensorFlowDevices()
    results = []
    for device in source.list_gpus():
        name = _name(device)
        enabled = bool(policy.get(name, False))
        try:
            source.set_memory_growth(device, enabled)
        except RuntimeError:
            results.append(MemoryGrowthResult(
                name, enabled, False,
                f"{name}: memory growth {'on' if enabled else 'off'} takes effect at the next "
                "launch (TensorFlow has already initialised this GPU)."))
        else:
            results.append(MemoryGrowthResult(
                name, enabled, True, f"{name}: memory growth {'on' if enabled else 'off'}."))
    return results
