"""A layer's parameters as Keras constructor arguments.

The catalog's parameter names are Keras' own, except where a form needs a friendlier shape
than Keras' API (a regularizer is a kind plus a strength). This one mapping feeds both the
model the studio builds (``studio.ml.layers``) and the script it writes
(``studio.core.keras_code``), so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.core.layer_catalog import ParamValue
from studio.core.model_spec import LayerSpec

#: Layer types that are not Keras layers in the stack: the model's input is made from the
#: dataset (and checked against an Input layer's shape), never instantiated from the spec.
NOT_BUILT = frozenset({"Input"})


@dataclass(frozen=True)
class Regularizer:
    """A weight penalty: ``kind`` is one of the catalog's REGULARIZERS other than none."""

    kind: str
    factor: float

    @property
    def class_name(self) -> str:
        return {"l1": "L1", "l2": "L2", "l1_l2": "L1L2"}[self.kind]

    @property
    def arguments(self) -> dict[str, float]:
        if self.kind == "l1_l2":
            return {"l1": self.factor, "l2": self.factor}
        return {self.kind: self.factor}

    def code(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self.arguments.items())
        return f"keras.regularizers.{self.class_name}({args})"


KerasArgument = ParamValue | Regularizer


def keras_arguments(layer: LayerSpec) -> dict[str, KerasArgument]:
    """Keyword arguments for ``keras.layers.<layer.type>`` (without ``name``)."""
    args: dict[str, KerasArgument] = dict(layer.params)
    strength = args.pop("regularization", None)
    kind = args.pop("kernel_regularizer", None)
    if isinstance(kind, str) and kind != "none":
        factor = strength if isinstance(strength, int | float) else 0.0
        args["kernel_regularizer"] = Regularizer(kind, float(factor))
    return args


def argument_code(value: KerasArgument) -> str:
    """Python source for one argument value."""
    if isinstance(value, Regularizer):
        return value.code()
    if isinstance(value, tuple):
        return repr(tuple(value))
    return repr(value)
