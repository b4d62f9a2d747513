"""The dataset choice saved in a project: where the data comes from and how it is prepared.

A source is one of the built-in, generated or Keras datasets, or a user's CSV file, NumPy
arrays or image folder. A file source records the shape and classes found when it was
imported, so the builder can check a stack without reading the file again; loading checks
the file still matches. Paths are absolute in memory and written relative to the project's
folder when the data lives inside it, so a project folder can be moved or shared whole.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

from studio.core.csv_table import CsvImportSettings
from studio.core.dataset_catalog import (
    BUILTIN_DATASETS,
    GENERATED_DATASETS,
    KERAS_DATASETS,
    DatasetInfo,
)
from studio.core.errors import DatasetError

Normalization = Literal["auto", "standardize", "minmax", "none"]
ColorMode = Literal["grayscale", "rgb"]
NORMALIZATIONS: tuple[str, ...] = get_args(Normalization)


def _known(name: object, catalog: Mapping[str, Any], kind: str) -> str:
    if not isinstance(name, str) or name not in catalog:
        raise DatasetError(f"Unknown {kind} dataset {name!r}; choose one of: "
                           f"{', '.join(catalog)}.")
    return name


@dataclass(frozen=True)
class BuiltinSource:
    """A dataset that ships with scikit-learn: works offline, loads in milliseconds."""

    kind: ClassVar[str] = "builtin"
    name: str = "digits"

    def __post_init__(self) -> None:
        _known(self.name, BUILTIN_DATASETS, "built-in")

    @property
    def info(self) -> DatasetInfo:
        return BUILTIN_DATASETS[self.name]

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name}


@dataclass(frozen=True)
class GeneratedSource:
    """A synthetic 2-D (or 1-D) dataset drawn from the split's seed."""

    kind: ClassVar[str] = "generated"
    name: str = "spirals"
    samples: int = 600
    noise: float = 0.2

    def __post_init__(self) -> None:
        _known(self.name, GENERATED_DATASETS, "generated")
        if isinstance(self.samples, bool) or not isinstance(self.samples, int) \
                or not 20 <= self.samples <= 1_000_000:
            raise DatasetError(f"dataset samples must be a whole number from 20 to 1,000,000; "
                               f"got {self.samples!r}.")
        if isinstance(self.noise, bool) or not isinstance(self.noise, int | float) \
                or not 0.0 <= self.noise <= 2.0:
            raise DatasetError(f"dataset noise must be a number from 0 to 2; "
                               f"got {self.noise!r}.")

    @property
    def info(self) -> DatasetInfo:
        return GENERATED_DATASETS[self.name].info(self.samples)

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "samples": self.samples,
                "noise": self.noise}


@dataclass(frozen=True)
class KerasSource:
    """MNIST, Fashion-MNIST or CIFAR-10 from the Keras cache (downloaded once if missing)."""

    kind: ClassVar[str] = "keras"
    name: str = "mnist"

    def __post_init__(self) -> None:
        _known(self.name, KERAS_DATASETS, "Keras")

    @property
    def info(self) -> DatasetInfo:
        return KERAS_DATASETS[self.name]

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name}


@dataclass(frozen=True)
class CsvSource:
    kind: ClassVar[str] = "csv"
    path: Path
    settings: CsvImportSettings
    recorded: DatasetInfo

    @property
    def info(self) -> DatasetInfo:
        return self.recorded

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        return {"kind": self.kind, "path": portable_path(self.path, base),
                "settings": self.settings.to_dict(), "recorded": info_to_dict(self.recorded)}


@dataclass(frozen=True)
class NumpySource:
    """An .npz file with x and y arrays, or two .npy files."""

    kind: ClassVar[str] = "numpy"
    path: Path
    recorded: DatasetInfo
    y_path: Path | None = None

    @property
    def info(self) -> DatasetInfo:
        return self.recorded

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        return {"kind": self.kind, "path": portable_path(self.path, base),
                "y_path": None if self.y_path is None else portable_path(self.y_path, base),
                "recorded": info_to_dict(self.recorded)}


@dataclass(frozen=True)
class ImageFolderSource:
    """A folder with one sub-folder of images per class."""

    kind: ClassVar[str] = "images"
    path: Path
    recorded: DatasetInfo
    image_size: tuple[int, int] = (64, 64)
    color_mode: ColorMode = "rgb"

    def __post_init__(self) -> None:
        size = self.image_size
        if (not isinstance(size, tuple) or len(size) != 2
                or not all(isinstance(d, int) and 8 <= d <= 1024 for d in size)):
            raise DatasetError(f"image_size must be two whole numbers from 8 to 1024 "
                               f"(height, width); got {size!r}.")
        if self.color_mode not in get_args(ColorMode):
            raise DatasetError(f"color_mode must be 'grayscale' or 'rgb'; "
                               f"got {self.color_mode!r}.")

    @property
    def info(self) -> DatasetInfo:
        return self.recorded

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        return {"kind": self.kind, "path": portable_path(self.path, base),
                "image_size": list(self.image_size), "color_mode": self.color_mode,
                "recorded": info_to_dict(self.recorded)}


DataSource = (BuiltinSource | GeneratedSource | KerasSource | CsvSource | NumpySource
              | ImageFolderSource)
FILE_SOURCES = (CsvSource, NumpySource, ImageFolderSource)


@dataclass(frozen=True)
class DatasetSpec:
    """Which data, and how it is split and normalised (statistics from the training split)."""

    source: DataSource = field(default_factory=BuiltinSource)
    validation_split: float = 0.2
    test_split: float = 0.0
    seed: int = 42
    shuffle: bool = True
    normalization: Normalization = "auto"

    def __post_init__(self) -> None:
        for key in ("validation_split", "test_split"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise DatasetError(f"dataset.{key} must be a number; got {value!r}.")
        if not 0.0 < self.validation_split < 0.9:
            raise DatasetError(f"dataset.validation_split must be between 0 and 0.9 "
                               f"(exclusive); got {self.validation_split}.")
        if not 0.0 <= self.test_split < 0.9:
            raise DatasetError(f"dataset.test_split must be from 0 to 0.9 (exclusive); "
                               f"got {self.test_split}.")
        if self.validation_split + self.test_split >= 0.95:
            raise DatasetError("dataset.validation_split plus test_split leave almost nothing "
                               "to train on; keep their sum below 0.95.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) \
                or not 0 <= self.seed < 2**32:
            raise DatasetError(f"dataset.seed must be a whole number from 0 to {2**32 - 1}; "
                               f"got {self.seed!r}.")
        if not isinstance(self.shuffle, bool):
            raise DatasetError(f"dataset.shuffle must be true or false; got {self.shuffle!r}.")
        if self.normalization not in NORMALIZATIONS:
            raise DatasetError(f"dataset.normalization must be one of "
                               f"{', '.join(NORMALIZATIONS)}; got {self.normalization!r}.")

    @property
    def info(self) -> DatasetInfo:
        return self.source.info

    @property
    def name(self) -> str:
        return self.info.name

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        return {"source": self.source.to_dict(base), "validation_split": self.validation_split,
                "test_split": self.test_split, "seed": self.seed, "shuffle": self.shuffle,
                "normalization": self.normalization}

    @classmethod
    def from_dict(cls, data: object, base: Path | None = None) -> DatasetSpec:
        if not isinstance(data, Mapping):
            raise DatasetError("'dataset' must be an object with a 'source'.")
        unknown = sorted(set(data) - {"source", "validation_split", "test_split", "seed",
                                      "shuffle", "normalization"})
        if unknown:
            raise DatasetError(f"dataset: unknown setting {unknown[0]!r}.")
        defaults = cls()
        return cls(
            source=source_from_dict(data.get("source"), base),
            validation_split=data.get("validation_split", defaults.validation_split),
            test_split=data.get("test_split", defaults.test_split),
            seed=data.get("seed", defaults.seed),
            shuffle=data.get("shuffle", defaults.shuffle),
            normalization=data.get("normalization", defaults.normalization),
        )


def source_from_dict(data: object, base: Path | None = None) -> DataSource:
    """Parse a saved source; relative paths are taken relative to ``base``."""
    if not isinstance(data, Mapping) or not isinstance(data.get("kind"), str):
        raise DatasetError("dataset.source must be an object with a 'kind' such as "
                           "\"builtin\" or \"csv\".")
    kind = data["kind"]
    try:
        if kind == "builtin":
            return BuiltinSource(data.get("name", "digits"))
        if kind == "generated":
            return GeneratedSource(data.get("name", "spirals"), data.get("samples", 600),
                                   data.get("noise", 0.2))
        if kind == "keras":
            return KerasSource(data.get("name", "mnist"))
        if kind not in ("csv", "numpy", "images"):
            raise DatasetError(f"dataset.source kind {kind!r} is unknown; use builtin, "
                               "generated, keras, csv, numpy or images.")
        recorded = info_from_dict(data.get("recorded"), _stem(data.get("path")))
        if kind == "csv":
            return CsvSource(resolve_path(data.get("path"), base),
                             CsvImportSettings.from_dict(data.get("settings")), recorded)
        if kind == "numpy":
            y_path = data.get("y_path")
            return NumpySource(resolve_path(data.get("path"), base), recorded,
                               None if y_path is None else resolve_path(y_path, base))
    except TypeError as error:  # a wrongly typed value in the file
        raise DatasetError(f"dataset.source: {error}") from None
    size = data.get("image_size", [64, 64])
    return ImageFolderSource(resolve_path(data.get("path"), base), recorded,
                             tuple(size) if isinstance(size, list) else size,
                             data.get("color_mode", "rgb"))


def portable_path(path: Path, base: Path | None) -> str:
    """Relative to ``base`` when the file lives inside it (POSIX separators), else absolute."""
    if base is not None:
        try:
            return Path(path).resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def resolve_path(value: object, base: Path | None) -> Path:
    if not isinstance(value, str) or not value:
        raise DatasetError("dataset.source.path must be the file or folder of the data.")
    path = Path(os.path.expanduser(value))
    if not path.is_absolute() and base is not None:
        path = base / path
    return path


def _stem(value: object) -> str:
    return Path(value).stem if isinstance(value, str) else "data"


def info_to_dict(info: DatasetInfo) -> dict[str, Any]:
    return {"name": info.name, "title": info.title, "description": info.description,
            "input_shape": list(info.input_shape), "task": info.task,
            "num_classes": info.num_classes, "class_names": list(info.class_names),
            "outputs": info.outputs, "samples": info.samples}


def info_from_dict(data: object, name: str) -> DatasetInfo:
    """The shape and classes recorded when a file was imported."""
    if not isinstance(data, Mapping):
        raise DatasetError("dataset.source.recorded is missing: import the file again.")
    shape = data.get("input_shape")
    task = data.get("task")
    classes = data.get("num_classes", 0)
    if (not isinstance(shape, list) or not shape
            or not all(isinstance(d, int) and d > 0 for d in shape)):
        raise DatasetError("dataset.source.recorded.input_shape must be a list of sizes.")
    if task not in ("classification", "regression"):
        raise DatasetError("dataset.source.recorded.task must be classification or "
                           "regression.")
    if not isinstance(classes, int) or (task == "classification" and classes < 2):
        raise DatasetError("dataset.source.recorded.num_classes must be at least 2.")
    names = tuple(str(n) for n in data.get("class_names", ()))
    outputs = data.get("outputs", 0)
    samples = data.get("samples", 0)
    name = str(data.get("name", name))
    return DatasetInfo(name, str(data.get("title", name)), task, tuple(shape), classes,
                       samples if isinstance(samples, int) else 0,
                       str(data.get("description", "")), names,
                       outputs if isinstance(outputs, int) else 0)
