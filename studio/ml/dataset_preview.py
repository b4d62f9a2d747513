"""Build the Data tab's preview by loading the dataset exactly as training will."""

from __future__ import annotations

import numpy as np

from studio.core.dataset_preview import DatasetPreview
from studio.core.dataset_spec import DatasetSpec
from studio.ml.datasets import Cancelled, Progress, normalise, read_source, split_indices

PREVIEW_ROWS = 100
PREVIEW_IMAGES = 32


def preview_dataset(spec: DatasetSpec, progress: Progress | None = None,
                    cancelled: Cancelled | None = None) -> DatasetPreview:
    info = spec.info
    raw = read_source(spec.source, spec.seed, progress, cancelled)
    train, val, test = split_indices(raw.y, spec, info)
    *_, note = normalise(raw.x[train[:2]], raw.x[val[:1]], raw.x[test[:1]],
                         spec.normalization, raw.scale)
    counts: tuple[tuple[int, ...], ...] = ((), (), ())
    target_range = None
    if info.task == "classification":
        counts = tuple(tuple(int(c) for c in np.bincount(raw.y[part], minlength=info.num_classes))
                       for part in (train, val, test))
        names = info.class_names or tuple(str(i) for i in range(info.num_classes))
        labels = tuple(names[int(label)] for label in raw.y[:PREVIEW_ROWS])
    else:
        y_train = raw.y[train].astype("float64")
        target_range = (float(y_train.min()), float(y_train.mean()), float(y_train.max()))
        labels = tuple(f"{float(np.ravel(value)[0]):.4g}" for value in raw.y[:PREVIEW_ROWS])
    shape = tuple(raw.x.shape[1:])
    images: tuple[bytes, ...] = ()
    image_shape = None
    if len(shape) == 3 and shape[2] in (1, 3):
        first = raw.x[:PREVIEW_IMAGES].astype("float32")
        top = raw.scale or float(max(first.max(), 1.0))
        pixels = np.clip(first / top * 255.0, 0, 255).astype("uint8")
        images = tuple(image.tobytes() for image in pixels)
        image_shape = (int(shape[0]), int(shape[1]), int(shape[2]))
        labels = labels[:PREVIEW_IMAGES]
    flat = raw.x[:PREVIEW_ROWS].reshape(min(len(raw.x), PREVIEW_ROWS), -1)
    rows = tuple(tuple(float(v) for v in row) for row in flat) if image_shape is None else ()
    return DatasetPreview(info, (len(train), len(val), len(test)),
                          counts,  # type: ignore[arg-type]
                          _names(raw.feature_names, flat.shape[1]), rows, labels, images,
                          image_shape, note, target_range)


def _names(known: tuple[str, ...], count: int) -> tuple[str, ...]:
    """The source's feature names when it has them, else x1, x2, ..."""
    return known if len(known) == count else tuple(f"x{i + 1}" for i in range(count))
