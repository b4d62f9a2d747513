"""The layers a user can stack, with their editable parameters, ranges and help text.

The catalog describes *what may be edited*; shapes and parameter counts are never computed
here but asked of Keras (see ``studio.ml.summary``). Views build their forms from
``ParamSpec`` so every widget gets the right type, range and tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from studio.core.errors import ModelSpecError

ParamKind = Literal["int", "float", "choice", "bool", "shape"]
ParamValue = int | float | str | bool | tuple[int, ...]

ACTIVATIONS = (
    "linear", "relu", "softmax", "sigmoid", "tanh", "elu", "selu", "gelu", "swish",
    "softplus", "leaky_relu",
)
PADDINGS = ("valid", "same")
INITIALIZERS = (
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "orthogonal", "random_normal", "random_uniform", "zeros",
)
#: Penalties on the weights' size; "regularization" sets their strength.
REGULARIZERS = ("none", "l1", "l2", "l1_l2")


@dataclass(frozen=True)
class ParamSpec:
    """One editable parameter of a layer type."""

    name: str
    kind: ParamKind
    default: ParamValue
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    #: (other parameter, value) for which this one has no effect; forms grey it out then.
    unused_when: tuple[str, ParamValue] | None = None
    #: Rarely changed: summaries mention it only when it differs from the default.
    advanced: bool = False

    def coerce(self, value: object, where: str) -> ParamValue:
        """Return ``value`` checked and converted to this parameter's type.

        ``where`` names the place (layer and parameter) for the error message.
        """
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ModelSpecError(f"{where} must be true or false, got {value!r}.")
            return value
        if self.kind == "choice":
            if value not in self.choices:
                options = ", ".join(self.choices)
                raise ModelSpecError(f"{where} must be one of {options}; got {value!r}.")
            return str(value)
        if self.kind == "shape":
            return self._coerce_shape(value, where)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ModelSpecError(f"{where} must be a number, got {value!r}.")
        if not math.isfinite(value):
            raise ModelSpecError(f"{where} must be a finite number, got {value!r}.")
        if self.kind == "int":
            if int(value) != value:
                raise ModelSpecError(f"{where} must be a whole number, got {value!r}.")
            number: int | float = int(value)
        else:
            number = float(value)
        self._check_range(number, where)
        return number

    def _check_range(self, number: float, where: str) -> None:
        low, high = self.minimum, self.maximum
        if (low is not None and number < low) or (high is not None and number > high):
            raise ModelSpecError(
                f"{where} must be between {_fmt(low)} and {_fmt(high)}; got {_fmt(number)}."
            )

    def _coerce_shape(self, value: object, where: str) -> tuple[int, ...]:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace("x", ",").split(",") if p.strip()]
            try:
                value = [int(p) for p in parts]
            except ValueError:
                raise ModelSpecError(
                    f"{where} must be whole numbers separated by commas, e.g. 8, 8, 1; "
                    f"got {value!r}."
                ) from None
        if not isinstance(value, list | tuple) or not value:
            raise ModelSpecError(f"{where} must be a list of sizes such as [8, 8, 1].")
        dims: list[int] = []
        for dim in value:
            if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
                raise ModelSpecError(f"{where}: every size must be a whole number >= 1.")
            dims.append(dim)
        return tuple(dims)


def _fmt(number: float | None) -> str:
    if number is None:
        return "any"
    return f"{number:g}"


@dataclass(frozen=True)
class LayerType:
    """A kind of layer: its Keras class name, palette group, help and parameters."""

    name: str
    group: str
    help: str
    params: tuple[ParamSpec, ...]
    #: Rank of one sample this layer needs (e.g. 3 for Conv2D: height, width, channels).
    input_rank: int | None = None

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def defaults(self) -> dict[str, ParamValue]:
        return {p.name: p.default for p in self.params}

    def validate(self, params: Mapping[str, object], where: str) -> dict[str, ParamValue]:
        """Return a complete, checked parameter dict (missing ones take their default)."""
        known = {p.name for p in self.params}
        unknown = sorted(set(params) - known)
        if unknown:
            allowed = ", ".join(sorted(known)) or "none"
            raise ModelSpecError(
                f"{where}: unknown parameter {unknown[0]!r} for {self.name} "
                f"(allowed: {allowed})."
            )
        return {
            p.name: p.coerce(params.get(p.name, p.default), f"{where} parameter '{p.name}'")
            for p in self.params
        }


def _activation(default: str = "relu") -> ParamSpec:
    return ParamSpec(
        "activation", "choice", default,
        "Function applied to the layer's output. relu for hidden layers; softmax on the "
        "output of a classifier; linear on the output of a regression.",
        choices=ACTIVATIONS,
    )


def _padding() -> ParamSpec:
    return ParamSpec(
        "padding", "choice", "valid",
        "'valid' shrinks the output by the window size; 'same' pads so the output keeps the "
        "input's size (at stride 1).",
        choices=PADDINGS,
    )


def _weights() -> tuple[ParamSpec, ...]:
    """How a layer's weights start and whether their size is penalised."""
    return (
        ParamSpec("kernel_initializer", "choice", "glorot_uniform",
                  "How the weights start. glorot_* suits tanh/sigmoid/softmax; he_* suits "
                  "relu; zeros stops the layer from learning different features.",
                  choices=INITIALIZERS, advanced=True),
        ParamSpec("kernel_regularizer", "choice", "none",
                  "Penalty added to the loss for large weights: l2 (weight decay) shrinks "
                  "them all, l1 drives many to zero. Reduces over-fitting.",
                  choices=REGULARIZERS, advanced=True),
        ParamSpec("regularization", "float", 0.01,
                  "Strength of the weight penalty (used when a regularizer is chosen).",
                  0.0, 1.0, unused_when=("kernel_regularizer", "none"), advanced=True),
    )


def _conv(name: str, rank: int, group: str, help_text: str) -> LayerType:
    return LayerType(
        name, group, help_text,
        (
            ParamSpec("filters", "int", 32, "Number of learned filters (output channels).", 1,
                      4096),
            ParamSpec("kernel_size", "int", 3, "Width of each filter's window, in samples.", 1,
                      64),
            ParamSpec("strides", "int", 1, "Step between windows; 2 halves the output size.",
                      1, 32),
            _padding(),
            _activation(),
            *_weights(),
        ),
        input_rank=rank,
    )


def _pool(name: str, rank: int) -> LayerType:
    return LayerType(
        name, "Pooling",
        "Keeps one value per window, shrinking the feature map.",
        (
            ParamSpec("pool_size", "int", 2, "Size of the pooling window.", 1, 32),
            _padding(),
        ),
        input_rank=rank,
    )


_LAYER_TYPES: tuple[LayerType, ...] = (
    LayerType(
        "Input", "Input",
        "States the shape of one sample the model expects. Optional: without it the input "
        "shape comes from the dataset. Only the first layer may be an Input.",
        (ParamSpec("shape", "shape", (8, 8, 1),
                   "Shape of one sample, without the batch axis, e.g. 28, 28, 1 for grey "
                   "28x28 images; must match the dataset."),),
    ),
    LayerType(
        "Dense", "Core", "Fully connected layer: every output sees every input.",
        (
            ParamSpec("units", "int", 32, "Number of outputs (neurons).", 1, 65536),
            _activation(),
            ParamSpec("use_bias", "bool", True, "Add a learned offset to each output."),
            *_weights(),
        ),
    ),
    _conv("Conv1D", 2, "Convolution",
          "Slides learned filters along a sequence (steps, channels)."),
    _conv("Conv2D", 3, "Convolution",
          "Slides learned filters over an image (height, width, channels)."),
    _conv("Conv1DTranspose", 2, "Convolution",
          "Learned up-sampling of a sequence (the reverse of Conv1D)."),
    _conv("Conv2DTranspose", 3, "Convolution",
          "Learned up-sampling of an image (the reverse of Conv2D)."),
    _pool("MaxPooling1D", 2),
    _pool("MaxPooling2D", 3),
    _pool("AveragePooling1D", 2),
    _pool("AveragePooling2D", 3),
    LayerType("GlobalAveragePooling1D", "Pooling",
              "Averages each channel over the whole sequence.", (), input_rank=2),
    LayerType("GlobalAveragePooling2D", "Pooling",
              "Averages each channel over the whole image.", (), input_rank=3),
    LayerType("GlobalMaxPooling1D", "Pooling",
              "Keeps each channel's largest value over the whole sequence.", (), input_rank=2),
    LayerType("GlobalMaxPooling2D", "Pooling",
              "Keeps each channel's largest value over the whole image.", (), input_rank=3),
    LayerType("Flatten", "Reshaping", "Unrolls each sample into one long vector.", ()),
    LayerType(
        "Reshape", "Reshaping", "Gives each sample a new shape with the same number of values.",
        (ParamSpec("target_shape", "shape", (8, 8, 1),
                   "New shape of one sample, e.g. 8, 8, 1. Sizes must multiply to the input's "
                   "number of values."),),
    ),
    LayerType(
        "Dropout", "Regularisation",
        "Randomly zeroes a fraction of inputs while training to reduce over-fitting.",
        (ParamSpec("rate", "float", 0.5, "Fraction of inputs dropped while training.", 0.0,
                   0.95),),
    ),
    LayerType(
        "BatchNormalization", "Normalisation",
        "Normalises activations per batch; often speeds up training.",
        (ParamSpec("momentum", "float", 0.99, "Momentum of the moving mean and variance.",
                   0.0, 0.9999),),
    ),
    LayerType(
        "LayerNormalization", "Normalisation",
        "Normalises each sample over its last axis; independent of the batch size.",
        (ParamSpec("epsilon", "float", 0.001, "Small number added to the variance to avoid "
                   "dividing by zero.", 1e-8, 1.0),),
    ),
    LayerType(
        "Rescaling", "Preprocessing",
        "Multiplies inputs by a scale and adds an offset, e.g. 1/255 for 8-bit pixels.",
        (ParamSpec("scale", "float", 1.0, "Factor every input is multiplied by.", -1e6, 1e6),
         ParamSpec("offset", "float", 0.0, "Value added after scaling.", -1e6, 1e6)),
    ),
    LayerType(
        "Normalization", "Preprocessing",
        "Standardises each feature (last axis) to mean 0 and variance 1, with statistics "
        "learned from the training data before training starts (Keras' adapt).",
        (),
    ),
    LayerType("Activation", "Core", "Applies an activation function on its own.",
              (_activation(),)),
)

LAYER_TYPES: Mapping[str, LayerType] = {t.name: t for t in _LAYER_TYPES}


def layer_type(name: str, where: str = "layer") -> LayerType:
    """Look up a layer type by its Keras class name, with a helpful error."""
    try:
        return LAYER_TYPES[name]
    except KeyError:
        known = ", ".join(LAYER_TYPES)
        raise ModelSpecError(f"{where}: unknown layer type {name!r}; known types: {known}.") \
            from None
