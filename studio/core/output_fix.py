"""The one-click fix for an output layer that does not match the dataset.

A classifier trained with sparse categorical cross-entropy needs one softmax probability per
class; a regression needs one linear output per predicted value. The fix edits the last Dense
layer when there is one, and otherwise appends what is missing (a Flatten first when the
output still has spatial axes).
"""

from __future__ import annotations

from studio.core.dataset_catalog import DatasetInfo
from studio.core.model_spec import LayerSpec, ModelSpec


def output_head(info: DatasetInfo) -> LayerSpec:
    """The output layer ``info``'s task needs."""
    activation = "softmax" if info.task == "classification" else "linear"
    return LayerSpec.create("Dense", units=info.outputs, activation=activation)


def output_fix(spec: ModelSpec, info: DatasetInfo,
               output_shape: tuple[int | None, ...]) -> tuple[ModelSpec, str]:
    """Return the fixed stack and a short description of the change."""
    head = output_head(info)
    units, activation = head.params["units"], head.params["activation"]
    if len(output_shape) > 1:
        return (ModelSpec((*spec.layers, LayerSpec.create("Flatten"), head)),
                f"Add Flatten and Dense({units}, {activation})")
    last = spec.layers[-1] if spec.layers else None
    if last is not None and last.type == "Dense":
        fixed = last.with_param("units", units).with_param("activation", activation)
        return (spec.replaced(len(spec.layers) - 1, fixed),
                f"Set the last Dense layer to {units} units with {activation}")
    return ModelSpec((*spec.layers, head)), f"Add Dense({units}, {activation})"
