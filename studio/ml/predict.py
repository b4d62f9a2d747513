"""Try a trained model on one input: a drawn or loaded image, or a typed row of values.

A model only understands inputs prepared exactly like its training data, so every input goes
through the project's own normalisation. Rather than re-deriving its statistics (and drifting
from ``datasets.normalise`` some day), ``format_from_raw`` asks ``normalise`` itself what it
makes of an all-zeros and an all-ones sample: normalisation is affine per value, so those two
answers are its shift and gain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from studio.core.dataset_catalog import DatasetInfo
from studio.core.dataset_spec import DatasetSpec
from studio.core.prediction import BadInput, Prediction
from studio.ml.datasets import Cancelled, Progress, normalise, read_source, split_indices

#: Luminance weights (ITU-R BT.601), as Qt and PIL turn colour into grey.
_GREY = np.array([0.299, 0.587, 0.114], dtype="float32")


@dataclass(frozen=True)
class InputFormat:
    """How a raw input becomes what the model was trained on.

    ``normalised = shift + gain * raw`` per input value. ``raw_max`` is the raw value of full
    white (16 for the 8x8 digits, 255 for pixels), so a drawing's 0..255 maps onto the
    dataset's range before normalisation.
    """

    shift: np.ndarray
    gain: np.ndarray
    raw_max: float = 1.0
    feature_names: tuple[str, ...] = ()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.shift.shape)

    def normalise(self, raw: np.ndarray) -> np.ndarray:
        return np.asarray(self.shift + self.gain * np.asarray(raw, dtype="float32"),
                          dtype="float32")

    def raw(self, normalised: np.ndarray) -> np.ndarray:
        """Back to raw values (gain is never 0: a constant feature's factor is 1)."""
        return np.asarray((np.asarray(normalised, dtype="float32") - self.shift) / self.gain,
                          dtype="float32")


def format_from_raw(x_train: np.ndarray, how: str, scale: float | None,
                    feature_names: tuple[str, ...] = ()) -> InputFormat:
    """The format of data normalised ``how`` with the statistics of ``x_train`` (raw)."""
    sample = x_train.shape[1:]
    zeros = np.zeros((1, *sample), dtype="float32")
    ones = np.ones((1, *sample), dtype="float32")
    _, at_zero, at_one, _ = normalise(x_train, zeros, ones, how, scale)
    top = scale or (float(np.max(x_train)) if x_train.size else 1.0)
    count = int(np.prod(sample)) if sample else 1
    return InputFormat(at_zero[0], at_one[0] - at_zero[0], float(top) or 1.0,
                       feature_names_for(feature_names, count))


def identity_format(info: DatasetInfo) -> InputFormat:
    """For data whose raw form is unknown (already normalised arrays): used as typed."""
    shape = info.input_shape
    count = int(np.prod(shape))
    return InputFormat(np.zeros(shape, "float32"), np.ones(shape, "float32"), 1.0,
                       feature_names_for((), count))


def input_format(spec: DatasetSpec, progress: Progress | None = None,
                 cancelled: Cancelled | None = None) -> InputFormat:
    """Read ``spec``'s source and learn its normalisation from the training split."""
    raw = read_source(spec.source, spec.seed, progress, cancelled)
    train, _, _ = split_indices(raw.y, spec, spec.info)
    return format_from_raw(raw.x[train], spec.normalization, raw.scale, raw.feature_names)


def feature_names_for(known: tuple[str, ...], count: int) -> tuple[str, ...]:
    """The source's feature names when it has them, else x1, x2, ..."""
    return known if len(known) == count else tuple(f"x{i + 1}" for i in range(count))


def class_probabilities(outputs: np.ndarray, num_classes: int) -> np.ndarray:
    """Per-class probabilities; a binary model with one sigmoid unit gives [1 - p, p]."""
    outputs = np.asarray(outputs, dtype="float64")
    if num_classes == 2 and outputs.shape[-1] == 1:
        return np.concatenate([1.0 - outputs, outputs], axis=-1)
    return outputs


def predict_one(model: keras.Model, x: np.ndarray, num_classes: int = 0) -> np.ndarray:
    """Class probabilities (``num_classes`` > 0) or the regressed values for one sample.

    Calls the model directly rather than ``predict``: for one sample that takes a few
    milliseconds instead of setting up a whole prediction loop.
    """
    batch = np.asarray(x, dtype="float32")[None]
    outputs = keras.ops.convert_to_numpy(model(batch, training=False))[0]
    if num_classes:
        return class_probabilities(outputs, num_classes)
    return np.asarray(outputs, dtype="float64").reshape(-1)


def resize_image(pixels: np.ndarray, size: tuple[int, int], channels: int, *,
                 fit_to_content: bool = False, invert: bool = False) -> np.ndarray:
    """A grey (H, W) or colour (H, W, 3|4) 0..255 image as (height, width, channels) floats.

    ``fit_to_content`` crops a drawing to its strokes and centres them in a square with a
    margin, as the digits datasets were prepared (MNIST keeps a 4-pixel border around a
    20-pixel digit; the 8x8 digits nearly fill their box). Downsizing averages areas, so a
    thick stroke becomes grey where it only partly covers a pixel, as in the datasets.
    """
    import tensorflow as tf

    image = np.asarray(pixels, dtype="float32")
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]  # alpha
    if image.ndim == 3 and image.shape[2] == 3 and channels == 1:
        image = image @ _GREY
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or not image.size:
        raise BadInput(f"Not an image: got an array of shape {tuple(np.shape(pixels))}.")
    if invert:
        image = 255.0 - image
    if fit_to_content:
        image = _fit(image, margin=0.05 if size[0] < 16 else 0.2)
    resized = np.asarray(tf.image.resize(image, size, method="area"), dtype="float32")
    if channels == 3 and resized.shape[2] == 1:
        resized = np.repeat(resized, 3, axis=2)
    return np.asarray(np.clip(resized, 0.0, 255.0), dtype="float32")


def _fit(image: np.ndarray, margin: float) -> np.ndarray:
    ink = image.max(axis=2)
    if ink.max() <= 0:
        return image  # blank: nothing to centre
    rows = np.flatnonzero(ink.max(axis=1) > 0.1 * ink.max())
    cols = np.flatnonzero(ink.max(axis=0) > 0.1 * ink.max())
    crop = image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    height, width = crop.shape[:2]
    side = math.ceil(max(height, width) * (1 + 2 * margin))
    square = np.zeros((side, side, image.shape[2]), dtype="float32")
    top, left = (side - height) // 2, (side - width) // 2
    square[top:top + height, left:left + width] = crop
    return square


def image_to_input(pixels: np.ndarray, fmt: InputFormat, *, fit_to_content: bool = False,
                   invert: bool = False) -> np.ndarray:
    """A 0..255 image (white ink on black) as the model's input: resized and normalised."""
    shape = fmt.shape
    if len(shape) != 3 or shape[2] not in (1, 3):
        raise BadInput(f"This model takes inputs of shape {shape}, not images.")
    resized = resize_image(pixels, (shape[0], shape[1]), shape[2],
                           fit_to_content=fit_to_content, invert=invert)
    return pixels_to_input(resized, fmt)


def pixels_to_input(resized: np.ndarray, fmt: InputFormat) -> np.ndarray:
    """0..255 pixels already of the model's size, scaled to the raw range and normalised."""
    return fmt.normalise(resized / 255.0 * fmt.raw_max)


def row_to_input(text: str, fmt: InputFormat) -> np.ndarray:
    """Typed values (separated by commas, semicolons or spaces) as the model's input.

    Values are raw, as in the data file; a bad one is named by its feature.
    """
    names = fmt.feature_names
    count = len(names)
    listed = _listing(names)
    separator = "," if "," in text else ";" if ";" in text else None
    parts = [part.strip() for part in text.strip().split(separator)] if text.strip() else []
    if not parts:
        raise BadInput(f"Type {count} value{'s' if count > 1 else ''} separated by commas: "
                       f"{listed}.")
    if len(parts) != count:
        raise BadInput(f"Expected {count} value{'s' if count > 1 else ''} ({listed}); "
                       f"got {len(parts)}.")
    values = []
    for position, (name, part) in enumerate(zip(names, parts, strict=True), start=1):
        try:
            value = float(part)
        except ValueError:
            raise BadInput(f"'{name}' (value {position} of {count}): {part!r} is not a "
                           "number.") from None
        if not math.isfinite(value):
            raise BadInput(f"'{name}' (value {position} of {count}): {part!r} is not a "
                           "finite number.")
        values.append(value)
    return fmt.normalise(np.asarray(values, dtype="float32").reshape(fmt.shape))


def _listing(names: tuple[str, ...], shown: int = 4) -> str:
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown - 1])}, … {names[-1]}"


def try_image(model: keras.Model, info: DatasetInfo, fmt: InputFormat, pixels: np.ndarray, *,
              fit_to_content: bool = False, invert: bool = False) -> Prediction:
    """Predict a drawn or loaded image; the prediction shows what the model saw."""
    shape = fmt.shape
    if len(shape) != 3 or shape[2] not in (1, 3):
        raise BadInput(f"This model takes inputs of shape {shape}, not images.")
    resized = resize_image(pixels, (shape[0], shape[1]), shape[2],
                           fit_to_content=fit_to_content, invert=invert)
    values = predict_one(model, pixels_to_input(resized, fmt), _classes(info))
    seen = resized.mean(axis=2).round().astype("uint8")
    return _prediction(info, values, seen.tobytes(), (shape[0], shape[1]))


def try_row(model: keras.Model, info: DatasetInfo, fmt: InputFormat, text: str) -> Prediction:
    """Predict a typed row of raw feature values."""
    return _prediction(info, predict_one(model, row_to_input(text, fmt), _classes(info)))


def _classes(info: DatasetInfo) -> int:
    return info.num_classes if info.task == "classification" else 0


def _prediction(info: DatasetInfo, values: np.ndarray, seen: bytes = b"",
                seen_size: tuple[int, int] | None = None) -> Prediction:
    if info.task == "classification":
        names = (info.class_names if len(info.class_names) == info.num_classes
                 else tuple(str(c) for c in range(info.num_classes)))
    else:
        names = (("value",) if len(values) == 1
                 else tuple(f"value {i + 1}" for i in range(len(values))))
    return Prediction(info.task, names, tuple(float(v) for v in values), seen, seen_size)
