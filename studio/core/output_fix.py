"""The one-click fix for an output layer that does not match the dataset.

A classifier trained with sparse categorical cross-entropy needs one softmax probability per
class. The fix edits the last Dense layer when there is one, and otherwise appends what is
missing (a Flatten first when the output still has spatial axes).
"""

from __future__ import annotations

from studio.core.dataset_catalog import DatasetInfo
from studio.core.model_spec import LayerSpec, ModelSpec


def output_fix(spec: ModelSpec, info: DatasetInfo,
               output_shape: tuple[int | None, ...]) -> tuple[ModelSpec, str]:
    """Return the fixed stack and a short description of the change."""
    classes = info.num_classes
    head = LayerSpec.create("Dense", units=classes, activation="softmax")
    if len(output_shape) > 1:
        return (ModelSpec((*spec.layers, LayerSpec.create("Flatten"), head)),
                f"Add Flatten and Dense({classes}, softmax)")
    last = spec.layers[-1] if spec.layers else None
    if last is not None and last.type == "Dense":
        fixed = last.with_param("units", classes).with_param("activation", "softmax")
        return (spec.replaced(len(spec.layers) - 1, fixed),
                f"Set the last Dense layer to {classes} units with softmax")
    return ModelSpec((*spec.layers, head)), f"Add Dense({classes}, softmax)"
