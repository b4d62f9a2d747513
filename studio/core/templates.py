"""Starting points for the builder, adapted to the chosen dataset's input and classes.

Each template returns a stack ending in the output the task needs (one softmax unit per
class, or one linear unit per predicted value); image templates need
image-shaped samples (height, width, channels) and say so when the dataset has none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from studio.core.dataset_catalog import DatasetInfo
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.core.output_fix import output_head

L = LayerSpec.create


def _head(info: DatasetInfo) -> LayerSpec:
    return output_head(info)


def _flatten_if_needed(info: DatasetInfo) -> tuple[LayerSpec, ...]:
    return (L("Flatten"),) if len(info.input_shape) > 1 else ()


def _linear(info: DatasetInfo) -> ModelSpec:
    return ModelSpec((*_flatten_if_needed(info), _head(info)))


def _mlp(info: DatasetInfo) -> ModelSpec:
    return ModelSpec((*_flatten_if_needed(info), L("Dense", units=64), L("Dropout", rate=0.2),
                      L("Dense", units=32), _head(info)))


def _lenet(info: DatasetInfo) -> ModelSpec:
    return ModelSpec((
        L("Conv2D", filters=6, kernel_size=3, padding="same", activation="tanh"),
        L("AveragePooling2D", pool_size=2),
        L("Conv2D", filters=16, kernel_size=3, padding="same", activation="tanh"),
        L("Flatten"), L("Dense", units=120, activation="tanh"),
        L("Dense", units=84, activation="tanh"), _head(info)))


def _vgg(info: DatasetInfo) -> ModelSpec:
    block = (L("Conv2D", filters=32, padding="same"), L("Conv2D", filters=32, padding="same"),
             L("MaxPooling2D", pool_size=2))
    deeper = (L("Conv2D", filters=64, padding="same"), L("Conv2D", filters=64, padding="same"),
              L("GlobalAveragePooling2D"))
    return ModelSpec((*block, L("BatchNormalization"), *deeper, L("Dropout", rate=0.3),
                      _head(info)))


def _cnn1d(info: DatasetInfo) -> ModelSpec:
    # Tabular features become a sequence of one channel; images become rows of pixels.
    values = 1
    for dim in info.input_shape:
        values *= dim
    steps = info.input_shape[0] if len(info.input_shape) > 1 else values
    reshape = L("Reshape", target_shape=[steps, values // steps])
    return ModelSpec((reshape, L("Conv1D", filters=16, kernel_size=3, padding="same"),
                      L("Conv1D", filters=32, kernel_size=3, padding="same"),
                      L("GlobalAveragePooling1D"), _head(info)))


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    build: Callable[[DatasetInfo], ModelSpec]
    needs_images: bool = False

    def unavailable_reason(self, info: DatasetInfo) -> str | None:
        if self.needs_images and len(info.input_shape) != 3:
            return (f"{self.title} needs image samples (height, width, channels); the "
                    f"{info.title} dataset has {len(info.input_shape)}-D samples.")
        return None


TEMPLATES: Mapping[str, Template] = {t.name: t for t in (
    Template("linear", "Linear model (softmax or linear regression)", _linear),
    Template("mlp", "Multi-layer perceptron", _mlp),
    Template("lenet", "LeNet-style CNN", _lenet, needs_images=True),
    Template("vgg", "Small VGG-style CNN", _vgg, needs_images=True),
    Template("cnn1d", "1-D CNN for sequences", _cnn1d),
)}
