"""Load a project's dataset into memory: read the source, split it, normalise it.

Every source ends as arrays ``x`` (samples first) and ``y`` (class indices or values). The
split is seeded (stratified for classification), and normalisation statistics come from the
training split only, so nothing about the validation or test data leaks into training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn import datasets as sk_datasets
from sklearn.model_selection import train_test_split

from studio.core.dataset_catalog import DatasetInfo
from studio.core.dataset_spec import (
    BuiltinSource,
    CsvSource,
    DatasetSpec,
    DataSource,
    GeneratedSource,
    ImageFolderSource,
    KerasSource,
    NumpySource,
)
from studio.core.errors import DatasetError
from studio.core.summary import format_shape

#: ``progress(stage, done, total)``: what is being done, and how far (total None: unknown).
Progress = Callable[[str, int, int | None], None]
Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class LoadedData:
    info: DatasetInfo
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    #: How the inputs were normalised, in words (for the log and the exported script).
    normalization: str = ""


@dataclass(frozen=True)
class RawData:
    """A source's samples before splitting; ``scale`` is the inputs' known maximum, if any."""

    x: np.ndarray
    y: np.ndarray
    scale: float | None = None
    feature_names: tuple[str, ...] = ()


_SKLEARN = {
    "digits": sk_datasets.load_digits,
    "iris": sk_datasets.load_iris,
    "wine": sk_datasets.load_wine,
    "breast_cancer": sk_datasets.load_breast_cancer,
}


def read_source(source: DataSource, seed: int = 0, progress: Progress | None = None,
                cancelled: Cancelled | None = None) -> RawData:
    """All samples of ``source`` with the sample shape its info promises."""
    raw = _read(source, seed, progress, cancelled)
    _check_matches(source, raw)
    return raw


def _read(source: DataSource, seed: int, progress: Progress | None,
          cancelled: Cancelled | None) -> RawData:
    info = source.info
    if isinstance(source, BuiltinSource):
        try:
            bunch = _SKLEARN[source.name]()
        except (OSError, ValueError) as error:
            raise DatasetError(f"The {info.title} dataset could not be read: {error}") from None
        x = np.asarray(bunch.data, dtype="float32").reshape((-1, *info.input_shape))
        names = () if source.name == "digits" else tuple(bunch.feature_names)
        return RawData(x, np.asarray(bunch.target, dtype="int32"),
                       16.0 if source.name == "digits" else None, names)
    if isinstance(source, GeneratedSource):
        from studio.ml.generated import generate

        x, y = generate(source.name, source.samples, source.noise, seed)
        return RawData(x, y)
    if isinstance(source, KerasSource):
        from studio.ml.keras_datasets import load_keras_dataset

        arrays = load_keras_dataset(source.name)
        return RawData(np.concatenate([arrays.x_train, arrays.x_test]),
                       np.concatenate([arrays.y_train, arrays.y_test]).astype("int32"), 255.0)
    if isinstance(source, CsvSource):
        from studio.core.csv_table import import_csv

        if progress:
            progress(f"Reading {source.path.name}", 0, None)
        table = import_csv(source.path, source.settings)
        if table.task != info.task:
            raise DatasetError(f"{source.path} now reads as a {table.task}, but the project "
                               f"was set up for a {info.task}. Import the file again.")
        y_type = "int32" if table.task == "classification" else "float32"
        return RawData(np.asarray(table.x, dtype="float32"), np.asarray(table.y, dtype=y_type),
                       None, table.feature_names)
    if isinstance(source, NumpySource):
        from studio.ml.file_datasets import load_numpy

        data = load_numpy(source.path, source.y_path, task=info.task)
        return RawData(data.x, data.y, 255.0 if data.x.dtype == np.uint8 else None)
    if isinstance(source, ImageFolderSource):
        from studio.ml.file_datasets import load_image_folder

        def images_progress(done: int, total: int) -> None:
            if progress:
                progress(f"Reading images in {source.path.name}", done, total)

        data = load_image_folder(source.path, image_size=source.image_size,
                                 color_mode=source.color_mode, progress=images_progress,
                                 cancelled=cancelled)
        return RawData(data.x, data.y, 255.0)
    raise DatasetError(f"Unknown dataset source {source!r}.")


def _check_matches(source: DataSource, raw: RawData) -> None:
    """A file may have changed since it was imported; the model was built for the old one."""
    info = source.info
    shape = tuple(raw.x.shape[1:])
    where = getattr(source, "path", info.title)
    if shape != tuple(info.input_shape):
        raise DatasetError(f"{where} now gives samples of shape {format_shape(shape)}, but the "
                           f"project expects {format_shape(info.input_shape)}. Import the "
                           "data again, or restore the file.")
    if info.task == "classification":
        found = int(raw.y.max()) + 1 if len(raw.y) else 0
        if raw.y.ndim != 1 or found > info.num_classes:
            raise DatasetError(f"{where} now has {found} classes, but the project expects "
                               f"{info.num_classes}. Import the data again.")
    if len(raw.x) < 10:
        raise DatasetError(f"{where} has only {len(raw.x)} samples; at least 10 are needed to "
                           "split off validation data.")


def load_dataset(spec: DatasetSpec, progress: Progress | None = None,
                 cancelled: Cancelled | None = None) -> LoadedData:
    """Read, split and normalise; raises DatasetError with what to change."""
    raw = read_source(spec.source, spec.seed, progress, cancelled)
    train, val, test = split_indices(raw.y, spec, spec.info)
    x_train, x_val, x_test, how = normalise(raw.x[train], raw.x[val], raw.x[test],
                                            spec.normalization, raw.scale)
    return LoadedData(spec.info, x_train, raw.y[train], x_val, raw.y[val], x_test, raw.y[test],
                      how)


def split_indices(y: np.ndarray, spec: DatasetSpec, info: DatasetInfo
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of the training, validation and test samples.

    Shuffled (seeded) and stratified for classification; without shuffling the validation and
    test samples are the last ones in file order, as Keras' ``validation_split`` takes them.
    """
    count = len(y)
    n_val = round(count * spec.validation_split)
    n_test = round(count * spec.test_split)
    classes = info.num_classes if info.task == "classification" else 0
    stratify = spec.shuffle and classes > 0 and count > 0 and np.bincount(y).min() >= 3
    for part, size, use in (("validation_split", n_val, "validation"),
                            ("test_split", n_test, "testing")):
        fraction = getattr(spec, part)
        if fraction and (size < 1 or (stratify and size < classes)):
            fewer = f", fewer than the {classes} classes" if stratify else ""
            raise DatasetError(
                f"dataset.{part} {fraction} keeps {size} of {count} samples for {use}{fewer}: "
                f"use at least {max(classes if stratify else 1, 1) / count:.3f}.")
    if count - n_val - n_test < 1:
        raise DatasetError("The split leaves no training samples; lower validation_split or "
                           "test_split.")
    everything = np.arange(count)
    if not spec.shuffle:
        train_end = count - n_val - n_test
        return (everything[:train_end], everything[train_end:train_end + n_val],
                everything[train_end + n_val:])
    labels = y if stratify else None
    rest, test = (train_test_split(everything, test_size=n_test, random_state=spec.seed,
                                   stratify=labels) if n_test else (everything, everything[:0]))
    # After the test split a class may be too small to stratify the validation split too.
    rest_labels = y[rest] if stratify and np.bincount(y[rest]).min() >= 2 else None
    train, val = train_test_split(rest, test_size=n_val, random_state=spec.seed,
                                  stratify=rest_labels)
    return train, val, test


def normalise(x_train: np.ndarray, x_val: np.ndarray, x_test: np.ndarray, how: str,
              scale: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Apply ``how`` with statistics of ``x_train`` only; returns float32 arrays and a note.

    "auto" scales data with a known range (pixels) to [0, 1] and standardises the rest.
    """
    train, val, test = (a.astype("float32") for a in (x_train, x_val, x_test))
    if how == "auto":
        how = "scale" if scale else "standardize"
    if how == "scale" and scale:
        offset, factor = np.float32(0.0), np.float32(scale)
        note = f"divided by {scale:g} to [0, 1]"
    elif how == "standardize":
        offset, factor = train.mean(axis=0), train.std(axis=0)
        note = "standardised with the training split's mean and standard deviation"
    elif how == "minmax":
        offset, factor = train.min(axis=0), train.max(axis=0) - train.min(axis=0)
        note = "scaled to [0, 1] with the training split's minimum and maximum"
    else:
        return train, val, test, "not normalised"
    if isinstance(factor, np.ndarray):
        factor[factor == 0] = 1.0  # a constant feature stays 0 instead of dividing by zero
    return (train - offset) / factor, (val - offset) / factor, (test - offset) / factor, note


def write_data_file(spec: DatasetSpec, path: str | Path) -> Path:
    """Save the samples as read (before split and normalisation) as x and y in an .npz.

    The exported Keras script loads them from there, so it trains on exactly the same data.
    """
    from studio.core.atomic import atomic_path

    raw = read_source(spec.source, spec.seed)
    target = Path(path)
    try:
        with atomic_path(target) as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, x=raw.x, y=raw.y)
    except OSError as error:
        raise DatasetError(f"{target}: could not write the data ({error.strerror or error}).") \
            from None
    return target
