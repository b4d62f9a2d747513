"""tf.data input pipelines: shuffled, batched, cached and prefetched."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def make_pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool,
                  seed: int, drop_remainder: bool = False) -> tf.data.Dataset:
    """``drop_remainder`` leaves out the last, smaller batch of each epoch (a different one
    each epoch when shuffled)."""
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
