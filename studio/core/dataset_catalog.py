"""The datasets a project can name, and what a model needs to know about each.

Only the facts that shape a model live here (input shape, task, classes), so the builder can
validate a stack before the data is loaded. Loading is ``studio.ml.datasets``' job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from studio.core.errors import DatasetError

Task = Literal["classification", "regression"]


@dataclass(frozen=True)
class DatasetInfo:
    """What a built-in dataset looks like, without loading it."""

    name: str
    title: str
    task: Task
    input_shape: tuple[int, ...]
    num_classes: int
    samples: int
    description: str


BUILTIN_DATASETS: Mapping[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("digits", "Handwritten digits (8x8)", "classification", (8, 8, 1), 10, 1797,
                    "1,797 grey 8x8 images of the digits 0-9 (ships with scikit-learn)."),
        DatasetInfo("iris", "Iris flowers", "classification", (4,), 3, 150,
                    "150 flowers, 4 measurements, 3 species (ships with scikit-learn)."),
        DatasetInfo("wine", "Wine cultivars", "classification", (13,), 3, 178,
                    "178 wines, 13 chemical measurements, 3 cultivars (ships with "
                    "scikit-learn)."),
        DatasetInfo("breast_cancer", "Breast cancer (Wisconsin)", "classification", (30,), 2,
                    569, "569 tumours, 30 features, benign or malignant (ships with "
                    "scikit-learn)."),
    )
}


@dataclass(frozen=True)
class DatasetSpec:
    """The dataset choice saved in a project: which data and how it is split."""

    name: str = "digits"
    validation_split: float = 0.2
    seed: int = 42

    @property
    def info(self) -> DatasetInfo:
        try:
            return BUILTIN_DATASETS[self.name]
        except KeyError:
            known = ", ".join(BUILTIN_DATASETS)
            raise DatasetError(
                f"Unknown dataset {self.name!r}; built-in datasets are: {known}."
            ) from None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "validation_split": self.validation_split, "seed": self.seed}

    @classmethod
    def from_dict(cls, data: object) -> DatasetSpec:
        if not isinstance(data, Mapping):
            raise DatasetError("'dataset' must be an object such as {\"name\": \"digits\"}.")
        spec = cls(
            name=_typed(data, "name", str, cls.name),
            validation_split=float(_typed(data, "validation_split", float, cls.validation_split)),
            seed=_typed(data, "seed", int, cls.seed),
        )
        spec.info  # noqa: B018 - validates the name
        if not 0 <= spec.seed < 2**32:
            raise DatasetError(f"dataset.seed must be from 0 to {2**32 - 1}; got {spec.seed}.")
        if not 0.0 < spec.validation_split < 0.9:
            raise DatasetError(
                f"dataset.validation_split must be between 0 and 0.9 (exclusive); "
                f"got {spec.validation_split}."
            )
        return spec


def _typed(data: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = data.get(key, default)
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        raise DatasetError(f"dataset.{key} must be a {kind.__name__}; got {value!r}.")
    return value
