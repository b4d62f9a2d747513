"""Load a user's own data (NumPy arrays or a folder of images) into memory for training.

Everything a user opens is untrusted: NumPy files are read with ``allow_pickle=False`` so
opening one can never run code, and every problem becomes a ``DatasetError`` that names the
file or folder and says what to change. Images are kept as uint8 to keep memory small;
callers scale them when they build the training arrays.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import keras
import numpy as np
import tensorflow as tf

from studio.core.dataset_catalog import Task
from studio.core.errors import DatasetError

TaskChoice = Literal["auto", "classification", "regression"]
ColorMode = Literal["grayscale", "rgb"]

#: File endings Keras' image_dataset_from_directory reads (compared lower-case).
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
#: Array names accepted in an .npz without asking, as (features, labels) pairs.
_PLAIN_PAIRS = (("x", "y"), ("X", "Y"), ("features", "labels"), ("data", "target"))
_TRAIN_PAIR = ("x_train", "y_train")
#: Auto-detected classification needs at most this many distinct labels.
_MAX_AUTO_CLASSES = 50
_IMAGE_SIZE_RANGE = (8, 1024)


@dataclass(frozen=True)
class ArrayData:
    """Samples and targets in memory, with what they mean.

    ``x`` is float32 or uint8 (images, 0..255), samples first. ``y`` holds int32 class
    indices 0..k-1 for classification, float32 values for regression ((n,) or (n, k)).
    """

    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    task: Task
    source: str

    @property
    def samples(self) -> int:
        return int(self.x.shape[0])

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x.shape[1:])


@dataclass(frozen=True)
class ImageFolderInfo:
    """What an image folder holds, counted without decoding, so the UI can show it at once.

    ``counts`` and ``examples`` (the first image of each class) line up with ``class_names``.
    """

    folder: Path
    class_names: tuple[str, ...]
    counts: tuple[int, ...]
    total: int
    examples: tuple[Path, ...]


class LoadCancelled(DatasetError):
    """The user stopped a load; not a problem with the data."""


# --- NumPy files -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Array:
    """An array with where it came from, for messages."""

    values: np.ndarray
    file: str
    key: str | None

    @property
    def label(self) -> str:
        return self.file if self.key is None else f"'{self.key}' in {self.file}"


def load_numpy(
    x_path: Path,
    y_path: Path | None = None,
    *,
    x_key: str | None = None,
    y_key: str | None = None,
    task: TaskChoice = "auto",
) -> ArrayData:
    """Read features and labels from one .npz, or from two files (.npy or .npz) x and y.

    The task is inferred from ``y`` unless ``task`` says otherwise (see ``_targets``).
    """
    if y_path is None:
        x, y = _read_pair(Path(x_path), x_key, y_key)
    else:
        x = _read_single(Path(x_path), x_key, "x")
        y = _read_single(Path(y_path), y_key, "y")
    samples = _check_samples(x, y)
    features = _features(x, samples)
    targets, class_names, found_task = _targets(y, samples, task)
    return ArrayData(features, targets, class_names, found_task, _source(x, y))


@contextmanager
def _opened(path: Path) -> Iterator[Any]:
    """np.load without pickle, its errors turned into user messages; closes archives."""
    if not path.is_file():
        raise DatasetError(f"{path} was not found: check the path or choose the file again.")
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as error:
        raise _value_error(path.name, None, error) from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise DatasetError(
            f"{path} could not be read ({error}): save it again with np.save or np.savez."
        ) from None
    try:
        yield loaded
    finally:
        if isinstance(loaded, np.lib.npyio.NpzFile):
            loaded.close()


def _value_error(file: str, key: str | None, error: ValueError) -> DatasetError:
    where = file if key is None else f"'{key}' in {file}"
    if "Object arrays" in str(error):
        return DatasetError(
            f"{where} holds Python objects (dtype object), which are never loaded because "
            f"opening them could run code: save numbers instead, "
            f"e.g. np.save(path, array.astype('float32'))."
        )
    return DatasetError(
        f"{file} is not a NumPy .npy or .npz file: save the arrays with np.save or np.savez."
    )


def _member(archive: Any, file: str, key: str) -> _Array:
    """One array of an open .npz; only this one is decompressed."""
    try:
        return _Array(np.asarray(archive[key]), file, key)
    except ValueError as error:
        raise _value_error(file, key, error) from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise DatasetError(
            f"'{key}' in {file} could not be read ({error}): save the file again with np.savez."
        ) from None


def _read_single(path: Path, key: str | None, role: str) -> _Array:
    """The x or y array of a two-file choice: a .npy, or one array of an .npz."""
    with _opened(path) as loaded:
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            if key is not None:
                raise DatasetError(
                    f"{path.name} is a .npy file holding one array, so it has no array named "
                    f"'{key}': clear the array name."
                )
            return _Array(np.asarray(loaded), path.name, None)
        names = list(loaded.files)
        if key is None:
            key = _role_key(names, path.name, role)
        _check_key(names, path.name, key)
        return _member(loaded, path.name, key)


def _role_key(names: list[str], file: str, role: str) -> str:
    """The only array, or the one with a usual name for ``role`` (x or y)."""
    if len(names) == 1:
        return names[0]
    index = 0 if role == "x" else 1
    usual = [pair[index] for pair in (*_PLAIN_PAIRS, _TRAIN_PAIR)]
    found = [name for name in usual if name in names]
    if len(found) == 1:
        return found[0]
    raise DatasetError(
        f"{file} holds the arrays {_names(names)}: choose which one holds {_role(role)}."
    )


def _read_pair(path: Path, x_key: str | None, y_key: str | None) -> tuple[_Array, _Array]:
    """x and y from one .npz archive."""
    with _opened(path) as loaded:
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise DatasetError(
                f"{path.name} holds a single array: choose a second file with the labels (y), "
                f"or an .npz file holding both x and y (np.savez(path, x=x, y=y))."
            )
        names = list(loaded.files)
        x_name, y_name = _choose_keys(names, path.name, x_key, y_key)
        return _member(loaded, path.name, x_name), _member(loaded, path.name, y_name)


_LABEL_NAMES = frozenset({"y", "label", "labels", "target", "targets", "class", "classes"})


def _choose_keys(
    names: list[str], file: str, x_key: str | None, y_key: str | None
) -> tuple[str, str]:
    """The (x, y) array names: given ones, else a usual pair, else ask the user to choose."""
    for key in (x_key, y_key):
        if key is not None:
            _check_key(names, file, key)
    pairs = [pair for pair in _PLAIN_PAIRS if pair[0] in names and pair[1] in names]
    if not pairs and _TRAIN_PAIR[0] in names and _TRAIN_PAIR[1] in names:
        pairs = [_TRAIN_PAIR]
    if x_key is not None and y_key is not None:
        return x_key, y_key
    if x_key is not None:
        return x_key, _partner(names, file, x_key, pairs, 0)
    if y_key is not None:
        return _partner(names, file, y_key, pairs, 1), y_key
    if len(pairs) == 1:
        return pairs[0]
    labels = [name for name in names if name.lower() in _LABEL_NAMES]
    if not pairs and len(names) == 2 and len(labels) == 1:
        # Two arrays, one named like labels (e.g. images/labels): the other holds the samples.
        return next(name for name in names if name != labels[0]), labels[0]
    if pairs:
        raise DatasetError(
            f"{file} holds several possible feature/label pairs among its arrays "
            f"{_names(names)}: choose which array holds {_role('x')} and which {_role('y')}."
        )
    raise DatasetError(
        f"{file} has no arrays named x and y; it holds {_names(names)}. Save it again with "
        f"the samples named x and the labels named y, e.g. numpy.savez(path, x=..., y=...)."
    )


def _partner(
    names: list[str], file: str, key: str, pairs: list[tuple[str, str]], given: int
) -> str:
    """The other half of a pair when only one array name was given."""
    for pair in pairs:
        if pair[given] == key:
            return pair[1 - given]
    others = [name for name in names if name != key]
    if len(others) == 1:
        return others[0]
    role = "y" if given == 0 else "x"
    raise DatasetError(
        f"{file} holds the arrays {_names(names)}: choose which one holds {_role(role)}."
    )


def _check_key(names: list[str], file: str, key: str) -> None:
    if key not in names:
        raise DatasetError(
            f"{file} has no array named '{key}'; it holds {_names(names)}: choose one of those."
        )


def _names(names: Sequence[str]) -> str:
    return ", ".join(f"'{name}'" for name in names) if names else "no arrays"


def _role(role: str) -> str:
    return "the features (x)" if role == "x" else "the labels (y)"


def _check_samples(x: _Array, y: _Array) -> int:
    """Both arrays numeric, one row per sample each, and at least two samples."""
    for array in (x, y):
        if array.values.ndim == 0:
            raise DatasetError(
                f"{array.label} is a single number, not one row per sample: save an array."
            )
        if array.values.dtype.kind not in "biuf":
            raise DatasetError(
                f"{array.label} holds {array.values.dtype} values, not numbers: convert it "
                f"to numbers (e.g. array.astype('float32')) and save it again."
            )
    n_x, n_y = len(x.values), len(y.values)
    if n_x != n_y:
        raise DatasetError(
            f"{x.label} has {n_x} samples but {y.label} has {n_y}: "
            f"x and y need one row per sample, in the same order."
        )
    if n_x < 2:
        raise DatasetError(f"{x.label} has {n_x} sample(s): training needs at least 2.")
    return n_x


def _features(x: _Array, samples: int) -> np.ndarray:
    """x as float32 (uint8 stays uint8, as images do), 1-D read as one feature per sample."""
    values = x.values
    if values.dtype != np.uint8:
        with np.errstate(over="ignore", invalid="ignore"):
            values = values.astype(np.float32)
        _check_finite(values, samples, x.label)
    if values.ndim == 1:
        values = values.reshape(samples, 1)
    return values


def _check_finite(values: np.ndarray, samples: int, label: str) -> None:
    bad = ~np.isfinite(values.reshape(samples, -1))
    count = int(bad.sum())
    if count:
        first = int(np.argmax(bad.any(axis=1)))
        raise DatasetError(
            f"{label} has {count} NaN or infinite value(s) (first in sample {first}, counting "
            f"from 0): remove or fill those samples, then save the file again."
        )


def _targets(y: _Array, samples: int, task: TaskChoice) -> tuple[np.ndarray, tuple[str, ...], Task]:
    """y as class indices or regression values.

    Auto: one-hot rows, or few distinct whole-number labels (at most 50 and fewer than half the
    samples), mean classification; anything else is regression.
    """
    values = y.values.astype(np.int8) if y.values.dtype == bool else y.values
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.reshape(samples)
    if values.ndim > 2:
        raise DatasetError(
            f"{y.label} has shape {y.values.shape}: labels need one value (or one row of "
            f"values) per sample."
        )
    if task == "auto":
        task = "classification" if _looks_like_classes(values, samples) else "regression"
    if task == "regression":
        out = values.astype(np.float32)
        _check_finite(out, samples, y.label)
        return out, (), "regression"
    indices, names = _classes(values, y.label)
    return indices, names, "classification"


def _looks_like_classes(values: np.ndarray, samples: int) -> bool:
    if _is_one_hot(values):
        return True
    if values.ndim != 1 or not _is_integral(values):
        return False
    distinct = len(np.unique(values))
    return distinct <= _MAX_AUTO_CLASSES and distinct < samples / 2


def _is_one_hot(values: np.ndarray) -> bool:
    if values.ndim != 2 or values.shape[1] < 2:
        return False
    return bool(np.isin(values, (0, 1)).all() and (values.sum(axis=1) == 1).all())


def _is_integral(values: np.ndarray) -> bool:
    if values.dtype.kind in "biu":
        return True
    return bool(np.isfinite(values).all() and (values == np.round(values)).all())


def _classes(values: np.ndarray, label: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class indices 0..k-1 and the original labels, sorted numerically, as names."""
    if _is_one_hot(values):
        names = tuple(str(i) for i in range(values.shape[1]))
        return np.argmax(values, axis=1).astype(np.int32), names
    if values.ndim != 1:
        raise DatasetError(
            f"{label} has {values.shape[1]} columns that are not one-hot rows: classification "
            f"needs one class label per sample (or one-hot rows); choose regression instead."
        )
    if not _is_integral(values):
        bad = ~(np.isfinite(values) & (values == np.round(values)))
        first = int(np.argmax(bad))
        raise DatasetError(
            f"{label} holds values that are not whole numbers (first: {values[first]} in sample "
            f"{first}): classification needs whole-number class labels; choose regression."
        )
    unique, indices = np.unique(values, return_inverse=True)
    if len(unique) < 2:
        raise DatasetError(
            f"{label} has the same label ({_label_text(unique[0])}) for every sample: "
            f"classification needs at least 2 classes."
        )
    return indices.reshape(-1).astype(np.int32), tuple(_label_text(v) for v in unique)


def _label_text(value: Any) -> str:
    return str(int(value))


def _source(x: _Array, y: _Array) -> str:
    """e.g. "train.npz: x (150, 4) float32, y (150,)"."""
    x_text = f"{x.values.shape} {x.values.dtype}"
    y_text = f"{y.values.shape}"
    if x.file == y.file and x.key is not None and y.key is not None:
        return f"{x.file}: {x.key} {x_text}, {y.key} {y_text}"
    return f"{_where(x)} {x_text}, {_where(y)} {y_text}"


def _where(array: _Array) -> str:
    return array.file if array.key is None else f"{array.file}:{array.key}"


# --- Image folders ---------------------------------------------------------------------------


def _layout(folder: Path) -> str:
    return (
        f"put one sub-folder per class in {folder}, each holding that class's images, "
        f"e.g. {folder / 'cat'}/*.png and {folder / 'dog'}/*.png"
    )


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


def _class_images(class_folder: Path) -> list[Path]:
    """The images Keras will read from one class folder, in its order (sub-folders included)."""
    found: list[Path] = []
    for root, _, files in sorted(os.walk(class_folder), key=lambda entry: entry[0]):
        found.extend(Path(root, name) for name in sorted(files) if _is_image(name))
    return found


def scan_image_folder(folder: Path) -> ImageFolderInfo:
    """Count the images per class sub-folder, named and ordered as Keras will label them."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"The image folder {folder} was not found: choose the folder again.")
    try:
        entries = sorted(os.listdir(folder))
        classes = [e for e in entries if not e.startswith(".") and (folder / e).is_dir()]
        images = {name: _class_images(folder / name) for name in classes}
    except OSError as error:
        raise DatasetError(f"The image folder {folder} could not be read ({error}).") from None
    if len(classes) < 2:
        if any(_is_image(e) and (folder / e).is_file() for e in entries):
            raise DatasetError(
                f"The images lie directly in {folder}, so they have no classes: {_layout(folder)}."
            )
        raise DatasetError(
            f"{folder} has {len(classes)} class sub-folder(s) but needs at least 2: "
            f"{_layout(folder)}."
        )
    empty = [name for name in classes if not images[name]]
    if empty:
        raise DatasetError(
            f"The class folder(s) {', '.join(empty)} in {folder} hold no images "
            f"({', '.join(IMAGE_SUFFIXES)}): add images or remove the folder(s)."
        )
    counts = tuple(len(images[name]) for name in classes)
    return ImageFolderInfo(
        folder, tuple(classes), counts, sum(counts), tuple(images[name][0] for name in classes)
    )


def load_image_folder(
    folder: Path,
    *,
    image_size: tuple[int, int] = (64, 64),
    color_mode: ColorMode = "rgb",
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    batch_size: int = 64,
) -> ArrayData:
    """Decode every image, resized to ``image_size`` (height, width), into uint8 arrays.

    ``progress(done, total)`` follows each batch; ``cancelled()`` is asked before each batch
    and stops the load with ``LoadCancelled``.
    """
    folder = Path(folder)
    _check_image_size(image_size)
    info = scan_image_folder(folder)
    # Always decoded as RGB: TensorFlow cannot decode GIFs to one channel, so grayscale is
    # converted here, the same way for every format.
    dataset = keras.utils.image_dataset_from_directory(
        str(folder), labels="inferred", label_mode="int", color_mode="rgb",
        image_size=tuple(image_size), batch_size=batch_size, shuffle=False,
        data_format="channels_last", verbose=False,
    )
    paths: list[str] = list(dataset.file_paths)
    channels = 1 if color_mode == "grayscale" else 3
    x = np.empty((len(paths), *image_size, channels), dtype=np.uint8)
    y = np.empty((len(paths),), dtype=np.int32)
    done = 0
    for images, labels in _batches(dataset, folder, paths, cancelled):
        batch = images.numpy()
        if channels == 1:
            batch = tf.image.rgb_to_grayscale(batch).numpy()
        x[done:done + len(batch)] = np.clip(np.rint(batch), 0, 255).astype(np.uint8)
        y[done:done + len(batch)] = labels.numpy()
        done += len(batch)
        if progress is not None:
            progress(done, len(paths))
    height, width = image_size
    source = (
        f"{folder.name}/: {done} images in {len(info.class_names)} classes, "
        f"{height}x{width} {color_mode}"
    )
    return ArrayData(x[:done], y[:done], tuple(dataset.class_names), "classification", source)


def _check_image_size(image_size: tuple[int, int]) -> None:
    low, high = _IMAGE_SIZE_RANGE
    valid = len(image_size) == 2 and all(
        isinstance(side, int | np.integer) and not isinstance(side, bool) and low <= side <= high
        for side in image_size
    )
    if not valid:
        raise DatasetError(
            f"Image size {tuple(image_size)} is not usable: give a height and a width, "
            f"each from {low} to {high} pixels."
        )


def _batches(
    dataset: Any, folder: Path, paths: list[str], cancelled: Callable[[], bool] | None
) -> Iterator[tuple[Any, Any]]:
    """The dataset's batches, stopping on cancel and naming the file a decode error came from."""
    iterator = iter(dataset)
    done = 0
    while True:
        if cancelled is not None and cancelled():
            raise LoadCancelled(f"Loading the images from {folder} was cancelled.")
        try:
            images, labels = next(iterator)
        except StopIteration:
            return
        except tf.errors.OpError as error:
            raise _image_error(folder, paths[done:], error) from None
        done += len(labels)
        yield images, labels


def _image_error(folder: Path, remaining: list[str], error: tf.errors.OpError) -> DatasetError:
    """Find the unreadable file by decoding the not-yet-loaded ones one by one (stops early)."""
    for path in remaining:
        try:
            tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        except tf.errors.OpError as bad:
            name = os.path.relpath(path, folder)
            return DatasetError(
                f"{name} in {folder} is not a readable image ({_tf_message(bad)}): "
                f"delete or replace it, then load the folder again."
            )
    return DatasetError(
        f"An image in {folder} could not be read ({_tf_message(error)}): open the images in an "
        f"image viewer to find the broken one, delete or replace it, then load again."
    )


def _tf_message(error: tf.errors.OpError) -> str:
    """TensorFlow's message without its graph and op decorations."""
    text = re.sub(r"\{\{.*?\}\}|\[\[.*?\]\]|\[Op:\w+\]", "", str(error.message), flags=re.S)
    text = re.sub(r"\s*name:\s*$", "", " ".join(text.split()))
    return text.rstrip(".") or type(error).__name__
