"""Load a project's dataset into memory as float32 arrays, split and scaled.

Built-in sets come from scikit-learn, which ships them inside the package: no download.
The split is stratified and seeded, and scaling statistics come from the training split only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn import datasets as sk_datasets
from sklearn.model_selection import train_test_split

from studio.core.dataset_catalog import DatasetInfo, DatasetSpec
from studio.core.errors import DatasetError


@dataclass(frozen=True)
class LoadedData:
    info: DatasetInfo
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


_LOADERS = {
    "digits": sk_datasets.load_digits,
    "iris": sk_datasets.load_iris,
    "wine": sk_datasets.load_wine,
    "breast_cancer": sk_datasets.load_breast_cancer,
}


def load_dataset(spec: DatasetSpec) -> LoadedData:
    info = spec.info
    try:
        bunch = _LOADERS[info.name]()
    except (OSError, ValueError) as error:
        raise DatasetError(f"The {info.title} dataset could not be read: {error}") from None
    x = np.asarray(bunch.data, dtype="float32")
    y = np.asarray(bunch.target, dtype="int32")
    classes = len(np.unique(y))
    kept = round(len(y) * spec.validation_split)
    if kept < classes:
        raise DatasetError(
            f"dataset.validation_split {spec.validation_split} keeps "
            f"{kept} of {len(y)} samples for validation, "
            f"fewer than the {classes} classes: use at least {classes / len(y):.3f}."
        )
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=spec.validation_split, random_state=spec.seed, stratify=y
    )
    if info.name == "digits":
        # Pixels are 0..16 intensities: scale to [0, 1] and restore the image shape.
        x_train, x_val = x_train / 16.0, x_val / 16.0
    else:
        mean = x_train.mean(axis=0)
        std = x_train.std(axis=0)
        std[std == 0] = 1.0
        x_train, x_val = (x_train - mean) / std, (x_val - mean) / std
    shape = (-1, *info.input_shape)
    return LoadedData(
        info,
        x_train.reshape(shape).astype("float32"),
        y_train,
        x_val.reshape(shape).astype("float32"),
        y_val,
    )
