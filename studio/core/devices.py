"""What the device panel and ``studio devices`` show, and the GPU memory policy.

Plain data, filled by ``studio.ml.devices`` from swappable sources, so the panel and the
"takes effect at next launch" path can be tested with fake GPUs on machines without one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class GpuInfo:
    name: str  # TensorFlow's device name, e.g. /physical_device:GPU:0
    description: str  # the card's model name where known
    compute_capability: str | None = None
    memory_total_mb: float | None = None  # from the driver (NVML); None without it
    memory_free_mb: float | None = None

    @property
    def index(self) -> int:
        """The number training choices use: GPU 0, GPU 1..."""
        tail = self.name.rsplit(":", 1)[-1]
        return int(tail) if tail.isdigit() else 0


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
    cpu_name: str = ""
    physical_cores: int | None = None
    ram_total_mb: float | None = None
    driver_version: str | None = None  # the NVIDIA driver's, from NVML
    cuda_driver_version: str | None = None  # the newest CUDA that driver supports
    driver_note: str = ""  # why the driver could not be asked, in words ("" when it could)

    def to_dict(self) -> dict[str, Any]:
        """For ``studio devices --json``: plain JSON types, GPU indices included."""
        data = asdict(self)
        data["gpus"] = [{"index": gpu.index, **asdict(gpu)} for gpu in self.gpus]
        return data

    def lines(self) -> list[str]:
        """The inventory as a person reads it in a terminal."""
        cuda = (f"CUDA {self.cuda_version}, cuDNN {self.cudnn_version}"
                if self.built_with_cuda else "CPU-only build (no CUDA)")
        out = [f"TensorFlow {self.tensorflow_version} (Keras {self.keras_version}), {cuda}"]
        if self.driver_version:
            supports = (f", supports CUDA {self.cuda_driver_version}"
                        if self.cuda_driver_version else "")
            out.append(f"NVIDIA driver {self.driver_version}{supports}")
        cores = f"{self.cpu_cores} logical cores"
        if self.physical_cores:
            cores = f"{self.physical_cores} cores, {cores}"
        ram = f", {self.ram_total_mb / 1024:.1f} GiB RAM" if self.ram_total_mb else ""
        out.append(f"CPU: {self.cpu_name or 'unknown model'} ({cores}{ram})")
        for gpu in self.gpus:
            capability = (f", compute capability {gpu.compute_capability}"
                          if gpu.compute_capability else "")
            out.append(f"GPU {gpu.index}: {gpu.description}{capability}, "
                       f"{memory_text(gpu)}")
        if not self.gpus:
            out.append(f"No GPU: training runs on the CPU. {self.no_gpu_reason or ''}".strip())
        return out


def memory_text(gpu: GpuInfo) -> str:
    if gpu.memory_total_mb is None:
        return "memory unknown (no NVIDIA driver to ask)"
    free = (f"{gpu.memory_free_mb:,.0f} MB free of " if gpu.memory_free_mb is not None else "")
    return f"{free}{gpu.memory_total_mb:,.0f} MB"


@dataclass(frozen=True)
class MemoryPolicy:
    """Per GPU name: grow memory as needed, or cap it (MB); TensorFlow's default otherwise
    (take nearly all memory at once). A cap wins over growth: TensorFlow refuses both."""

    growth: dict[str, bool] = field(default_factory=dict)
    limit_mb: dict[str, int] = field(default_factory=dict)

    def for_gpu(self, name: str) -> tuple[bool, int]:
        """(growth, limit in MB or 0)."""
        limit = int(self.limit_mb.get(name, 0) or 0)
        return (False if limit else bool(self.growth.get(name, False))), limit

    def describe(self, name: str) -> str:
        growth, limit = self.for_gpu(name)
        if limit:
            return f"memory capped at {limit:,} MB"
        return "memory growth on" if growth else "memory growth off"


@dataclass(frozen=True)
class MemoryPolicyResult:
    """Outcome of applying the memory policy to one GPU."""

    gpu: str
    growth: bool
    limit_mb: int
    applied: bool  # False: TensorFlow had already initialised the GPU; needs a restart
    message: str
