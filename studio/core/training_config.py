"""Training settings saved in a project and shared by the window and ``studio train``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from studio.core.errors import ProjectError

OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw")


@dataclass(frozen=True)
class TrainingConfig:
    """How to train: epochs, batch size, optimizer and learning rate."""

    epochs: int = 10
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 1e-3

    def __post_init__(self) -> None:
        _check_int("epochs", self.epochs, 1, 100_000)
        _check_int("batch_size", self.batch_size, 1, 65_536)
        if self.optimizer not in OPTIMIZERS:
            raise ProjectError(
                f"training.optimizer must be one of {', '.join(OPTIMIZERS)}; "
                f"got {self.optimizer!r}."
            )
        rate = self.learning_rate
        if (isinstance(rate, bool) or not isinstance(rate, int | float)
                or not math.isfinite(rate) or not 1e-7 <= rate <= 10):
            raise ProjectError(
                f"training.learning_rate must be a number from 1e-07 to 10; got {rate!r}."
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> TrainingConfig:
        if not isinstance(data, Mapping):
            raise ProjectError("'training' must be an object such as {\"epochs\": 10}.")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ProjectError(f"training: unknown setting {unknown[0]!r}.")
        return cls(**data)


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProjectError(
            f"training.{name} must be a whole number from {low} to {high}; got {value!r}."
        )
