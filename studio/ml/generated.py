"""Synthetic datasets that show what a network can learn: spirals, circles, XOR, moons, sine.

Drawn with numpy (and scikit-learn's circles and moons) from the split's seed, so a project
always trains on the same points.
"""

from __future__ import annotations

import numpy as np
from sklearn import datasets as sk_datasets

from studio.core.errors import DatasetError


def generate(name: str, samples: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: x float32 (samples, 2) or (samples, 1); y int32 labels or float32 values."""
    rng = np.random.default_rng(seed)
    if name == "spirals":
        return _spirals(samples, noise, rng)
    if name == "circles":
        x, y = sk_datasets.make_circles(samples, noise=noise, factor=0.5, random_state=seed)
        return x.astype("float32"), y.astype("int32")
    if name == "moons":
        x, y = sk_datasets.make_moons(samples, noise=noise, random_state=seed)
        return x.astype("float32"), y.astype("int32")
    if name == "xor":
        # Half the points per class: class 1 where x and y share a sign, class 0 elsewhere.
        y = (np.arange(samples) % 2).astype("int32")
        magnitude = rng.uniform(0.0, 1.0, size=(samples, 2))
        first_sign = rng.choice([-1.0, 1.0], size=samples)
        second_sign = np.where(y == 1, first_sign, -first_sign)
        x = magnitude * np.stack([first_sign, second_sign], axis=1)
        return (x + rng.normal(scale=noise, size=x.shape)).astype("float32"), y
    if name == "sine":
        x = rng.uniform(-2 * np.pi, 2 * np.pi, size=(samples, 1))
        y = np.sin(x[:, 0]) + rng.normal(scale=noise, size=samples)
        return x.astype("float32"), y.astype("float32")
    raise DatasetError(f"Unknown generated dataset {name!r}.")


def _spirals(samples: int, noise: float, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray]:
    """Two arms, each turning 1.75 times around the origin, the second rotated by pi."""
    y = np.arange(samples) % 2
    t = np.sqrt(rng.uniform(0.0, 1.0, size=samples)) * 3.5 * np.pi
    angle = t + np.pi * y
    radius = t / (3.5 * np.pi)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    x += rng.normal(scale=noise * 0.1, size=x.shape)
    return x.astype("float32"), y.astype("int32")
