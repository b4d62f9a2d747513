"""Learn the statistics of a model's Normalization layers from the training split.

A Normalization layer is only useful once adapted (Keras' ``adapt``); the studio does that
right before training, on the training split alone so validation data never leaks into it.
A layer deeper in the stack is adapted on what the layers above it output.
"""

from __future__ import annotations

import keras
import numpy as np


def adapt_normalization(model: keras.Model, x_train: np.ndarray, batch_size: int = 256
                        ) -> int:
    """Adapt every Normalization layer of ``model``; returns how many were adapted."""
    adapted = 0
    for layer in model.layers:
        if not isinstance(layer, keras.layers.Normalization):
            continue
        if layer.input is model.inputs[0]:
            features = x_train
        else:
            upstream = keras.Model(model.inputs, layer.input)
            features = upstream.predict(x_train, batch_size=batch_size, verbose=0)
        layer.adapt(features)
        adapted += 1
    return adapted
