"""Import the architecture of a ``.keras`` model into the builder (weights are not kept).

The file is loaded with safe_mode=True through ``model_io``. Only plain stacks of the layer
types the builder offers come in; anything else is refused with the layers named, so the user
never edits a silently different model. Settings the builder has no field for must be at
Keras' defaults, or the import says which layer and setting stops it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from studio.core.errors import ModelSpecError
from studio.core.layer_catalog import (
    INITIALIZERS,
    LAYER_TYPES,
    LayerType,
    ParamSpec,
    ParamValue,
)
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.ml.model_io import load_keras

#: Keras settings with no field in the builder: importing is refused unless they are at these
#: values, because dropping them would change the model.
_REQUIRED_DEFAULTS: dict[str, object] = {
    "data_format": "channels_last",
    "dilation_rate": 1,
    "groups": 1,
    "bias_regularizer": None,
    "activity_regularizer": None,
    "kernel_constraint": None,
    "bias_constraint": None,
    "center": True,
    "scale": True,
    "invert": False,
    "output_padding": None,
    "use_bias": True,  # only checked for layers without a use_bias field
}


@dataclass(frozen=True)
class ImportedArchitecture:
    spec: ModelSpec
    #: Things the user should know, e.g. "Layer 2 (Normalization): statistics are learned
    #: again from the training data".
    notes: tuple[str, ...]


def import_keras_architecture(path: str | os.PathLike[str]) -> ImportedArchitecture:
    """Raises ExportError (unreadable file) or ModelSpecError (a model the builder can't edit)."""
    path = Path(path)
    model = load_keras(path)
    layers = _chain(model, path)
    unsupported = [f"{type(layer).__name__} ('{layer.name}')" for layer in layers
                   if type(layer).__name__ not in LAYER_TYPES]
    if unsupported:
        raise ModelSpecError(
            f"{path.name} uses layers the builder does not offer: {', '.join(unsupported)}. "
            "Only stacks of the palette's layers can be imported.")
    specs: list[LayerSpec] = []
    notes: list[str] = []
    shape = tuple(model.inputs[0].shape[1:])  # _chain checked that there is one input
    if all(isinstance(dim, int) for dim in shape):
        specs.append(LayerSpec.create("Input", shape=list(shape)))
    for layer in layers:
        where = f"{path.name}, layer '{layer.name}' ({type(layer).__name__})"
        specs.append(_layer_spec(layer, where, notes))
    notes.append("Weights are not imported: the architecture is trained from scratch.")
    return ImportedArchitecture(ModelSpec(tuple(specs)), tuple(notes))


def _chain(model: keras.Model, path: Path) -> list[keras.layers.Layer]:
    """The model's layers in order, or an error when it is not one straight stack."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    try:
        model.inputs  # noqa: B018 - an unbuilt model has none and raises
    except (AttributeError, ValueError):
        raise ModelSpecError(f"{path.name} was saved before it was built, so its input is "
                             "unknown; build it on an input in Keras and save it again.") \
            from None
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelSpecError(f"{path.name} has {len(model.inputs)} inputs and "
                             f"{len(model.outputs)} outputs; the builder edits models with one "
                             "of each.")
    previous = _producer(model.inputs[0])
    for layer in layers:
        if isinstance(layer.input, list | tuple) or _producer(layer.input) is not previous:
            raise ModelSpecError(
                f"{path.name} is not a plain stack: layer '{layer.name}' "
                f"({type(layer).__name__}) does not take the output of the layer before it "
                "(branches, skip connections and shared layers cannot be edited here).")
        previous = layer
    return layers


def _producer(tensor: Any) -> object:
    """The layer that made a symbolic tensor (Keras records it in ``_keras_history``)."""
    history = getattr(tensor, "_keras_history", None)
    return history[0] if history else None


def _layer_spec(layer: keras.layers.Layer, where: str, notes: list[str]) -> LayerSpec:
    kind = LAYER_TYPES[type(layer).__name__]
    config: dict[str, Any] = layer.get_config()
    fields = {spec.name for spec in kind.params}
    required = {key: value for key, value in _REQUIRED_DEFAULTS.items() if key not in fields}
    if "strides" in config and "strides" not in fields:  # pooling: windows must not overlap
        required["strides"] = config.get("pool_size")
    for key, default in required.items():
        if key in config and _normalised(config[key]) != _normalised(default):
            raise ModelSpecError(f"{where}: {key}={config[key]!r} is not supported by the "
                                 f"builder (only {default!r}).")
    if kind.name == "Normalization":
        if config.get("axis") not in ((-1,), [-1], -1):
            raise ModelSpecError(f"{where}: only normalisation over the last axis is "
                                 f"supported (axis={config.get('axis')!r}).")
        notes.append(f"{where}: its statistics are learned again from the training data.")
    params: dict[str, ParamValue] = {}
    for spec in kind.params:
        params[spec.name] = _param_value(kind, spec, config, where, notes)
    try:
        imported = LayerSpec(kind.name, kind.validate(params, where))
    except ModelSpecError as error:
        raise ModelSpecError(f"{error} Edit the model in Keras or build it here.") from None
    _check_rebuilds_the_same(layer, config, imported, where, notes)
    return imported


#: Settings that never change what a layer computes once trained from scratch.
_IGNORED = frozenset({"name", "dtype", "trainable", "seed", "kernel_initializer",
                      "bias_initializer", "quantization_config", "mean", "variance"})


def _check_rebuilds_the_same(layer: keras.layers.Layer, config: dict[str, Any],
                             spec: LayerSpec, where: str, notes: list[str]) -> None:
    """The builder's layer must have every other setting of the imported one."""
    from studio.ml.layers import make_layer

    rebuilt = make_layer(spec, layer.name).get_config()
    for key, value in config.items():
        if key in _IGNORED or _plain(rebuilt.get(key)) == _plain(value):
            continue
        raise ModelSpecError(f"{where}: {key}={value!r} cannot be expressed in the builder "
                             f"(it would become {rebuilt.get(key)!r}); edit it in Keras or "
                             "build the layer here.")
    if _class_name(config.get("bias_initializer")) not in (None, "Zeros"):
        notes.append(f"{where}: its bias initializer is not kept (zeros is used).")


def _plain(value: object) -> object:
    """Lists and tuples compare alike; configs of nested objects compare by content."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "registered_name"}
    return value


def _param_value(kind: LayerType, spec: ParamSpec, config: dict[str, Any], where: str,
                 notes: list[str]) -> ParamValue:
    if spec.name == "regularization":
        return _regularizer(config.get("kernel_regularizer"), where)[1]
    if spec.name == "kernel_regularizer":
        return _regularizer(config.get("kernel_regularizer"), where)[0]
    if spec.name == "kernel_initializer":
        name = _snake(_class_name(config.get("kernel_initializer")) or "GlorotUniform")
        if name not in INITIALIZERS:
            notes.append(f"{where}: initializer {name} is not offered; {spec.default} is used "
                         "(it only affects how training starts).")
            return spec.default
        return name
    if spec.name not in config:
        return spec.default
    value = config[spec.name]
    if spec.kind == "int" and isinstance(value, list | tuple):
        if len(set(value)) != 1:
            raise ModelSpecError(f"{where}: {spec.name}={tuple(value)} differs per axis; the "
                                 "builder uses the same size on every axis.")
        value = value[0]
    if spec.kind == "shape":
        return tuple(value)
    if spec.kind == "choice" and isinstance(value, dict):
        value = _snake(_class_name(value) or "")
    return value  # type: ignore[no-any-return]


def _regularizer(config: object, where: str) -> tuple[str, float]:
    if config is None:
        return "none", 0.01
    name = _class_name(config)
    options = config.get("config", {}) if isinstance(config, dict) else {}
    if name == "L1":
        return "l1", float(options.get("l1", 0.01))
    if name == "L2":
        return "l2", float(options.get("l2", 0.01))
    if name == "L1L2" and options.get("l1") == options.get("l2"):
        return "l1_l2", float(options.get("l1", 0.01))
    raise ModelSpecError(f"{where}: the weight regularizer {name} with {options} is not "
                         "supported (the builder offers l1, l2 and l1_l2 of equal strength).")


def _class_name(config: object) -> str | None:
    if isinstance(config, dict):
        name = config.get("class_name")
        return name if isinstance(name, str) else None
    return config if isinstance(config, str) else None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _normalised(value: object) -> object:
    if isinstance(value, list | tuple) and len(set(value)) == 1:
        return value[0]
    return value
