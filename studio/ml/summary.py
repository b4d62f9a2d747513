"""Build a Keras model from a spec and ask Keras for shapes and parameter counts.

Nothing here re-implements shape arithmetic: each layer is applied to a symbolic input and
Keras says what comes out (or raises, and the error is turned into a message that names the
layer and says how to fix it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import keras
from keras.src.backend.common import global_state  # the probe's variable queue

from studio.core.dataset_catalog import DatasetInfo
from studio.core.errors import ModelSpecError
from studio.core.keras_arguments import NOT_BUILT
from studio.core.layer_catalog import ParamValue
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.core.output_fix import output_fix
from studio.core.summary import LayerProblem, LayerRow, ModelSummary, format_shape
from studio.ml.layers import make_layer

#: Larger models would not fit in memory on a typical machine (4 bytes per weight, plus
#: optimizer state): they are refused before training rather than crashing it.
MAX_PARAMETERS = 100_000_000
#: Likewise for one layer's output (activations are kept for every sample of a batch).
MAX_VALUES_PER_SAMPLE = 50_000_000

_RANK_NAMES = {1: "1-D input per sample (features,)", 2: "2-D input per sample (steps, channels)",
               3: "3-D input per sample (height, width, channels)"}


def layer_name(index: int, type_name: str) -> str:
    return f"{index + 1:02d}_{type_name.lower()}"


def build_model(spec: ModelSpec, info: DatasetInfo, name: str = "studio_model",
                seed: int | None = None, dtype_policy: str = "float32") -> keras.Model:
    """A functional Keras model for ``spec`` on ``info``'s inputs; raises ModelSpecError.

    With a mixed ``dtype_policy`` every layer computes in half precision except the last,
    which stays float32 so the loss is computed stably (Keras' mixed-precision guide). The
    policy is given per layer, never set globally, so other threads' models are unaffected.

    With ``seed``, every random number generator is seeded after the analysis and right
    before the real layers are made: probing layers for the analysis draws random seeds only
    when its cache misses, which must not change the starting weights.
    """
    summary = summarize(spec, info)
    if summary.problems:
        problem = summary.problems[0]
        raise ModelSpecError(problem.message, layer_index=problem.layer_index)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=info.input_shape, name="input")
    x = inputs
    built = [(i, s) for i, s in enumerate(spec.layers) if s.type not in NOT_BUILT]
    last_index = built[-1][0] if built else -1
    for index, layer_spec in built:  # an Input layer's shape was checked against the data's
        last = index == last_index
        # Preprocessing layers see raw values (a year, a price): half precision would round
        # or overflow them, so they stay float32 like the output layer.
        exact = last or layer_spec.type in ("Normalization", "Rescaling")
        dtype = None if dtype_policy == "float32" else "float32" if exact else dtype_policy
        x = make_layer(layer_spec, layer_name(index, layer_spec.type), dtype)(x)
    return keras.Model(inputs, x, name=name)


@dataclass(frozen=True)
class _LayerFacts:
    """What Keras said about one layer type + parameters on one input shape."""

    output_shape: tuple[int | None, ...]
    trainable: int
    non_trainable: int


_Key = tuple[str, tuple[tuple[str, ParamValue], ...], tuple[int | None, ...]]


def _facts_key(layer_spec: LayerSpec, sample_shape: tuple[int | None, ...]) -> _Key:
    return layer_spec.type, tuple(sorted(layer_spec.params.items())), sample_shape


@lru_cache(maxsize=4096)
def _layer_facts(key: _Key) -> _LayerFacts:
    """Build one layer on a symbolic input and read its output shape and weight counts.

    The layer is built in a StatelessScope that never initialises its variables: Keras works
    out every weight's shape but allocates nothing, so a 4-billion-parameter typo costs
    nothing, and TensorFlow's runtime (and with it the GPUs) is not initialised by editing,
    which keeps the memory-growth policy applicable until training starts. Answers are
    cached, so an edit re-asks Keras only for layers whose input changed. Raises whatever
    Keras raises for an input the layer cannot take.
    """
    type_name, params, sample_shape = key
    pending = global_state.get_global_attribute("uninitialized_variables", [],
                                                set_to_default=True)
    before = len(pending)
    try:
        with keras.StatelessScope(initialize_variables=False):
            layer = make_layer(LayerSpec(type_name, dict(params)), "probe")
            output = layer(keras.KerasTensor((None, *sample_shape)))
        return _LayerFacts(
            tuple(output.shape[1:]),
            sum(_count(w) for w in layer.trainable_weights),
            sum(_count(w) for w in layer.non_trainable_weights),
        )
    finally:
        # Keras queues uninitialised variables (per thread) for a later scope to initialise;
        # the probe's must never be, so they are dropped from that queue.
        del pending[before:]


def summarize(spec: ModelSpec, info: DatasetInfo) -> ModelSummary:
    """Per-layer output shapes and parameter counts, and every problem found."""
    shape: tuple[int | None, ...] = tuple(info.input_shape)
    rows: list[LayerRow] = []
    problems: list[LayerProblem] = []
    trainable = frozen = 0
    for index, layer_spec in enumerate(spec.layers):
        name = layer_name(index, layer_spec.type)
        if problems:
            rows.append(LayerRow(index, name, layer_spec.type, None, None))
            continue
        if layer_spec.type == "Input":
            problem = _input_problem(index, layer_spec, spec, info)
            if problem is not None:
                problems.append(problem)
                rows.append(LayerRow(index, name, layer_spec.type, None, None))
            else:
                rows.append(LayerRow(index, name, layer_spec.type, shape, 0))
            continue
        message = _rank_problem(index, layer_spec.type, shape, spec)
        if message is None:
            try:
                facts = _layer_facts(_facts_key(layer_spec, shape))
            except (ValueError, TypeError) as error:
                message = _keras_problem(index, layer_spec.type, shape, error)
        if message is not None:
            problems.append(LayerProblem(index, message))
            rows.append(LayerRow(index, name, layer_spec.type, None, None))
            continue
        shape = facts.output_shape
        values = math.prod(d or 1 for d in shape)
        if values > MAX_VALUES_PER_SAMPLE:
            problems.append(LayerProblem(index, f"Layer {index + 1} ({layer_spec.type}) "
                                                f"outputs {format_shape(shape)}: {values:,} "
                                                "values per sample, too many to train. Use "
                                                "smaller strides, kernels or filters."))
            rows.append(LayerRow(index, name, layer_spec.type, shape, None))
            continue
        trainable += facts.trainable
        frozen += facts.non_trainable
        rows.append(LayerRow(index, name, layer_spec.type, shape,
                             facts.trainable + facts.non_trainable))
    if not spec.layers:
        problems.append(LayerProblem(None, "The model has no layers: add at least a Dense "
                                           f"layer with {info.outputs} units."))
    if not problems:
        problems.extend(_output_problems(spec, info, shape))
    if trainable + frozen > MAX_PARAMETERS:
        problems.append(LayerProblem(None, f"The model has {trainable + frozen:,} parameters; "
                                           f"the studio trains models of up to "
                                           f"{MAX_PARAMETERS:,}. Reduce units or filters, or "
                                           "add pooling before large Dense layers."))
    return ModelSummary(info.input_shape, tuple(rows), trainable + frozen, trainable, frozen,
                        tuple(problems))


def _count(weight: keras.Variable) -> int:
    total = 1
    for dim in weight.shape:
        total *= int(dim)
    return total


def _input_problem(index: int, layer: LayerSpec, spec: ModelSpec, info: DatasetInfo
                   ) -> LayerProblem | None:
    """An Input layer must come first and state the dataset's sample shape."""
    where = f"Layer {index + 1} (Input)"
    if index > 0:
        return LayerProblem(index, f"{where}: only the first layer may be an Input; the model "
                                   "already receives its input above it. Remove this one.",
                            spec.removed(index), f"Remove layer {index + 1} (Input)")
    shape = layer.params["shape"]
    declared: tuple[int, ...] = shape if isinstance(shape, tuple) else ()
    if declared == tuple(info.input_shape):
        return None
    wanted = format_shape(info.input_shape)
    return LayerProblem(
        index,
        f"{where} expects samples of shape {format_shape(declared)}, but the {info.name} "
        f"dataset has {wanted}. Set its shape to {wanted}, or choose a dataset of that shape.",
        spec.replaced(index, layer.with_param("shape", info.input_shape)),
        f"Set the Input shape to {wanted}")


def _rank_problem(index: int, type_name: str, sample_shape: tuple[int | None, ...],
                  spec: ModelSpec) -> str | None:
    """A plain-words message when a layer gets input of the wrong rank (Keras' is cryptic)."""
    from studio.core.layer_catalog import layer_type

    need = layer_type(type_name).input_rank
    if need is None or len(sample_shape) == need:
        return None
    where = f"Layer {index + 1} ({type_name})"
    shape = format_shape(sample_shape)
    fix = "Add a Reshape before it"
    if index > 0 and spec.layers[index - 1].type == "Flatten" and len(sample_shape) < need:
        fix = "Add a Reshape or remove the Flatten above it"
    elif len(sample_shape) > need:
        fix = "Add a Flatten or a pooling layer before it, or use the layer of matching rank"
    return f"{where} needs a {_RANK_NAMES[need]}; it receives {shape}. {fix}."


def _keras_problem(index: int, type_name: str, sample_shape: tuple[int | None, ...],
                   error: Exception) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # Keras colours its messages
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.strip().startswith("Exception encountered")]
    first_line = lines[0] if lines else type(error).__name__
    where = f"Layer {index + 1} ({type_name})"
    if "negative" in text.lower() or "too small" in text.lower():
        return (f"{where}: its window does not fit the input {format_shape(sample_shape)}. "
                "Use a smaller kernel or pool size, padding 'same', or remove a pooling layer "
                "above it.")
    return f"{where} cannot take the input {format_shape(sample_shape)}: {first_line}"


def _output_problems(spec: ModelSpec, info: DatasetInfo,
                     output_shape: tuple[int | None, ...]) -> list[LayerProblem]:
    """Classification needs one softmax probability per class (sparse cross-entropy);
    regression one linear output per predicted value (mean squared error)."""
    last = len(spec.layers) - 1
    layer = spec.layers[last]
    where = f"The output layer (layer {last + 1}, {layer.type})"
    activation = layer.params.get("activation", "none")
    if info.task == "classification":
        classes = info.num_classes
        if output_shape != (classes,):
            message = (f"{where} gives {format_shape(output_shape)}, but the {info.name} "
                       f"dataset has {classes} classes: end with a Dense layer of {classes} "
                       "units and softmax activation.")
        elif activation != "softmax":
            message = (f"{where} must use softmax activation so that it outputs class "
                       "probabilities for sparse categorical cross-entropy; it uses "
                       f"{activation}.")
        else:
            return []
    else:
        outputs = info.outputs
        if output_shape != (outputs,):
            message = (f"{where} gives {format_shape(output_shape)}, but the {info.name} "
                       f"dataset predicts {outputs} value(s) per sample: end with a Dense "
                       f"layer of {outputs} unit(s) and linear activation.")
        elif layer.type == "Dense" and activation != "linear":
            message = (f"{where} must use linear activation for regression, so it can "
                       f"output any value; it uses {activation}.")
        else:
            return []
    fixed, text = output_fix(spec, info, output_shape)
    return [LayerProblem(last, message, fixed, text)]
