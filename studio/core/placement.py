"""Where a project trains: CPU, one GPU or several with MirroredStrategy; precision and XLA.

Saved with the project (its ``devices`` section) so ``studio train`` on another machine makes
the same choice. GPUs are named by their index among the GPUs TensorFlow sees, which is what
CUDA_VISIBLE_DEVICES renumbers too; a choice the machine cannot honour is resolved (and
explained) when training starts, not refused when the project is opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from studio.core.errors import ProjectError

Strategy = Literal["auto", "cpu", "gpu", "mirrored"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)
#: "auto" is Keras' own default: XLA on a GPU when no strategy is chosen ("auto" placement),
#: off on the CPU and under any tf.distribute strategy (one GPU, mirrored).
Xla = Literal["auto", "on", "off"]
XLA_MODES: tuple[str, ...] = get_args(Xla)
XLA_TEXT: Mapping[str, str] = {
    "auto": "Automatic (as Keras decides: on for a GPU with automatic placement)",
    "on": "On (compile every step with XLA)",
    "off": "Off",
}
STRATEGY_TEXT: Mapping[str, str] = {
    "auto": "Automatic (the first GPU if there is one, else the CPU)",
    "cpu": "CPU only",
    "gpu": "One GPU",
    "mirrored": "All selected GPUs (MirroredStrategy)",
}


@dataclass(frozen=True)
class Placement:
    """The device choice of a project.

    ``gpus``: for ``gpu`` the first index is used (GPU 0 when empty); for ``mirrored`` the
    replicas (every GPU when empty). ``mixed_precision`` computes in float16 on GPUs and
    bfloat16 on the CPU, with float32 weights and a float32 output layer.
    """

    strategy: Strategy = "auto"
    gpus: tuple[int, ...] = ()
    mixed_precision: bool = False
    xla: Xla = "auto"

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ProjectError(f"devices.strategy must be one of {', '.join(STRATEGIES)}; "
                               f"got {self.strategy!r}.")
        if any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in self.gpus):
            raise ProjectError(f"devices.gpus must list GPU numbers (0, 1, ...); got "
                               f"{list(self.gpus)!r}.")
        if len(set(self.gpus)) != len(self.gpus):
            raise ProjectError(f"devices.gpus names a GPU twice: {list(self.gpus)!r}.")
        if not isinstance(self.mixed_precision, bool):
            raise ProjectError(f"devices.mixed_precision must be true or false; got "
                               f"{self.mixed_precision!r}.")
        if self.xla not in XLA_MODES:
            raise ProjectError(f"devices.xla must be one of {', '.join(XLA_MODES)}; got "
                               f"{self.xla!r}.")

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "gpus": list(self.gpus),
                "mixed_precision": self.mixed_precision, "xla": self.xla}

    @classmethod
    def from_dict(cls, data: object) -> Placement:
        if not isinstance(data, Mapping):
            raise ProjectError("'devices' must be an object such as {\"strategy\": \"auto\"}.")
        unknown = sorted(set(data) - {"strategy", "gpus", "mixed_precision", "xla"})
        if unknown:
            raise ProjectError(f"devices: unknown setting {unknown[0]!r}.")
        gpus = data.get("gpus", [])
        if not isinstance(gpus, list):
            raise ProjectError(f"devices.gpus must be a list such as [0, 1]; got {gpus!r}.")
        return cls(strategy=data.get("strategy", "auto"), gpus=tuple(gpus),
                   mixed_precision=data.get("mixed_precision", False),
                   xla=data.get("xla", "auto"))
