"""Turn a ``LayerSpec`` into a Keras layer: the catalog's parameters map 1:1 to Keras."""

from __future__ import annotations

import keras

from studio.core.model_spec import LayerSpec


def make_layer(spec: LayerSpec, name: str) -> keras.layers.Layer:
    params = dict(spec.params)
    if spec.type == "Reshape":
        params["target_shape"] = tuple(params["target_shape"])  # type: ignore[arg-type]
    layer_class = getattr(keras.layers, spec.type)
    return layer_class(name=name, **params)
