"""Turn a ``LayerSpec`` into a Keras layer, through the same arguments the script uses."""

from __future__ import annotations

import keras

from studio.core.keras_arguments import Regularizer, keras_arguments
from studio.core.model_spec import LayerSpec


def make_layer(spec: LayerSpec, name: str, dtype: str | None = None) -> keras.layers.Layer:
    """``dtype``: a Keras dtype policy such as "mixed_bfloat16" (None: the global policy)."""
    args: dict[str, object] = {} if dtype is None else {"dtype": dtype}
    for key, value in keras_arguments(spec).items():
        if isinstance(value, Regularizer):
            args[key] = getattr(keras.regularizers, value.class_name)(**value.arguments)
        else:
            args[key] = value
    layer_class = getattr(keras.layers, spec.type)
    return layer_class(name=name, **args)
