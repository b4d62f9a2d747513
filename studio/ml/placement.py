"""Turn a project's device choice into a tf.distribute strategy, a dtype policy and XLA.

A choice this machine cannot honour (one GPU asked for on a laptop without one, GPU 3 on a
two-GPU box) falls back to something that trains, and ``notes`` says what changed: a project
must train wherever it is opened, and the user must know where it really ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import tensorflow as tf

from studio.core.placement import Placement


@dataclass(frozen=True)
class ResolvedPlacement:
    """What training will really use."""

    strategy: tf.distribute.Strategy
    devices: tuple[str, ...]  # TensorFlow device names; empty: TensorFlow's default placement
    description: str  # "GPU 0", "2 GPUs (MirroredStrategy)", "the CPU"
    dtype_policy: str  # "float32", "mixed_float16" or "mixed_bfloat16"
    jit_compile: bool | str  # True, False or Keras' "auto"
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: CPU threads per operation (``studio.core.cpu_threads``); 0: TensorFlow's default.
    threads_per_operation: int = 0

    @property
    def replicas(self) -> int:
        return int(self.strategy.num_replicas_in_sync)

    @property
    def on_gpu(self) -> bool:
        return any("GPU" in d.upper() for d in self.devices)

    def per_replica_batch(self, global_batch: int) -> int:
        return max(1, global_batch // self.replicas)

    def summary(self, global_batch: int) -> str:
        """One line for the log: where, in which precision, on how many threads per
        operation where not TensorFlow's default, with or without XLA."""
        parts = [f"Training on {self.description}"]
        if self.replicas > 1:
            parts.append(f"global batch {global_batch} = {self.replicas} replicas x "
                         f"{self.per_replica_batch(global_batch)}")
        if self.dtype_policy != "float32":
            parts.append(f"mixed precision ({self.dtype_policy.removeprefix('mixed_')}, "
                         "float32 output)")
        if self.threads_per_operation == 1 and not self.on_gpu:
            parts.append("one thread per operation (faster for a model this small)")
        elif self.threads_per_operation > 1:
            parts.append(f"{self.threads_per_operation} threads per operation")
        if self.jit_compile is True:
            parts.append("XLA on")
        elif self.jit_compile is False:
            parts.append("XLA off")
        return ", ".join(parts) + "."


def resolve(placement: Placement, gpus: Sequence[str] | None = None,
            cpus: Sequence[str] | None = None) -> ResolvedPlacement:
    """``gpus``/``cpus``: the logical device names (tests pass them; by default TensorFlow's).

    Listing logical devices initialises TensorFlow's runtime, so call this after the GPU
    memory policy has been applied.
    """
    gpus = list(gpus if gpus is not None else _logical("GPU"))
    cpus = list(cpus if cpus is not None else _logical("CPU"))
    notes: list[str] = []
    devices: tuple[str, ...]
    strategy: tf.distribute.Strategy
    choice = placement.strategy
    if choice in ("gpu", "mirrored") and not gpus and not (choice == "mirrored"
                                                          and len(cpus) > 1):
        notes.append(f"No GPU detected, so '{choice}' training runs on the CPU.")
        choice = "cpu"
    if choice == "auto":
        devices = (gpus[0],) if gpus else ()
        strategy = tf.distribute.get_strategy()
        description = "GPU 0" if gpus else "the CPU"
    elif choice == "cpu":
        devices = (cpus[0],)
        strategy = tf.distribute.OneDeviceStrategy(cpus[0])
        description = "the CPU"
    elif choice == "gpu":
        index = placement.gpus[0] if placement.gpus else 0
        if index >= len(gpus):
            notes.append(f"GPU {index} is not present (this machine has {len(gpus)}), so "
                         "training runs on GPU 0.")
            index = 0
        devices = (gpus[index],)
        strategy = tf.distribute.OneDeviceStrategy(gpus[index])
        description = f"GPU {index}"
    else:
        devices, description = _mirrored_devices(placement, gpus, cpus, notes)
        strategy = tf.distribute.MirroredStrategy(list(devices))
    on_gpu = any("GPU" in d.upper() for d in devices)
    policy = "float32"
    if placement.mixed_precision:
        # float16 needs a GPU's tensor cores; bfloat16 keeps float32's range on CPUs.
        policy = "mixed_float16" if on_gpu else "mixed_bfloat16"
    jit: bool | str = {"on": True, "off": False}.get(placement.xla, "auto")
    threads = int(tf.config.threading.get_intra_op_parallelism_threads())
    return ResolvedPlacement(strategy, devices, description, policy, jit, tuple(notes),
                             threads)


def _mirrored_devices(placement: Placement, gpus: list[str], cpus: list[str],
                      notes: list[str]) -> tuple[tuple[str, ...], str]:
    if not gpus:
        # Logical CPU devices (tf.config.set_logical_device_configuration) mirror like GPUs:
        # useful to try a multi-device setup on a laptop.
        return tuple(cpus), f"{len(cpus)} CPU devices (MirroredStrategy)"
    wanted = list(placement.gpus) or list(range(len(gpus)))
    missing = [i for i in wanted if i >= len(gpus)]
    present = [i for i in wanted if i < len(gpus)]
    if missing:
        names = ", ".join(str(i) for i in missing)
        notes.append(f"GPU {names} {'is' if len(missing) == 1 else 'are'} not present (this "
                     f"machine has {len(gpus)}); mirroring over the others.")
    if not present:
        present = list(range(len(gpus)))
    devices = tuple(gpus[i] for i in present)
    label = ", ".join(str(i) for i in present)
    if len(devices) == 1:
        return devices, f"GPU {label} (MirroredStrategy, one replica)"
    return devices, f"GPUs {label} (MirroredStrategy)"


def _logical(kind: str) -> list[str]:
    return [d.name for d in tf.config.list_logical_devices(kind)]
