"""What the device panel shows: the compute devices TensorFlow sees and the GPU memory policy.

Plain data, filled by ``studio.ml.devices`` from a swappable source, so the panel and the
"takes effect at next launch" path can be tested with fake GPUs on machines without one.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GpuInfo:
    name: str  # TensorFlow's device name, e.g. /physical_device:GPU:0
    description: str  # the card's model name where known
    compute_capability: str | None = None


@dataclass(frozen=True)
class DeviceReport:
    tensorflow_version: str
    keras_version: str
    built_with_cuda: bool
    cuda_version: str | None
    cudnn_version: str | None
    cpu_cores: int
    gpus: tuple[GpuInfo, ...] = ()
    no_gpu_reason: str | None = None


@dataclass(frozen=True)
class MemoryGrowthResult:
    """Outcome of applying the memory-growth policy to one GPU."""

    gpu: str
    enabled: bool
    applied: bool  # False: TensorFlow had already initialised the GPU; needs a restart
    message: str


@dataclass
class MemoryPolicy:
    """Memory growth wanted per GPU name; GPUs not listed keep TensorFlow's default (off)."""

    growth: dict[str, bool] = field(default_factory=dict)
