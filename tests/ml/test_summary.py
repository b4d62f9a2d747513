"""Shapes and counts come from Keras; invalid stacks are explained per layer."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from studio.core.dataset_catalog import BUILTIN_DATASETS
from studio.core.defaults import default_project
from studio.core.errors import ModelSpecError
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.ml.summary import build_model, summarize

DIGITS = BUILTIN_DATASETS["digits"]


def test_summary_matches_keras_for_the_default_model():
    project = default_project()
    summary = summarize(project.model, DIGITS)
    model = build_model(project.model, DIGITS)
    assert summary.valid
    assert summary.total_params == model.count_params()
    keras_layers = model.layers[1:]  # without the InputLayer
    assert [row.output_shape for row in summary.rows] == [
        tuple(layer.output.shape[1:]) for layer in keras_layers]
    assert [row.params for row in summary.rows] == [layer.count_params() for layer in
                                                     keras_layers]
    assert summary.rows[0].output_shape == (8, 8, 16)


def test_batch_normalization_counts_non_trainable_parameters():
    spec = ModelSpec((LayerSpec.create("Flatten"), LayerSpec.create("BatchNormalization"),
                      LayerSpec.create("Dense", units=10, activation="softmax")))
    summary = summarize(spec, DIGITS)
    assert summary.non_trainable_params == 2 * 64
    assert summary.trainable_params == 2 * 64 + 64 * 10 + 10


def test_conv_after_flatten_is_explained_with_a_fix():
    spec = ModelSpec((LayerSpec.create("Flatten"), LayerSpec.create("Conv2D"),
                      LayerSpec.create("Dense", units=10, activation="softmax")))
    summary = summarize(spec, DIGITS)
    assert not summary.valid
    problem = summary.problems[0]
    assert problem.layer_index == 1
    assert problem.message == (
        "Layer 2 (Conv2D) needs a 3-D input per sample (height, width, channels); it receives "
        "(64,). Add a Reshape or remove the Flatten above it.")
    assert summary.rows[2].output_shape is None, "layers after the error have no shape"


def test_window_larger_than_input_is_explained():
    spec = ModelSpec((LayerSpec.create("Conv2D", kernel_size=9),
                      LayerSpec.create("Flatten"),
                      LayerSpec.create("Dense", units=10, activation="softmax")))
    problem = summarize(spec, DIGITS).problems[0]
    assert problem.layer_index == 0
    assert "Layer 1 (Conv2D)" in problem.message


def test_pooling_window_larger_than_input_is_explained():
    spec = ModelSpec((LayerSpec.create("MaxPooling2D", pool_size=9), LayerSpec.create("Flatten"),
                      LayerSpec.create("Dense", units=10, activation="softmax")))
    problem = summarize(spec, DIGITS).problems[0]
    assert problem.message == (
        "Layer 1 (MaxPooling2D): its window does not fit the input (8, 8, 1). Use a smaller "
        "kernel or pool size, padding 'same', or remove a pooling layer above it.")


def test_reshape_to_a_wrong_size_names_the_layer():
    spec = ModelSpec((LayerSpec.create("Reshape", target_shape=[7, 7]),
                      LayerSpec.create("Flatten"),
                      LayerSpec.create("Dense", units=10, activation="softmax")))
    problem = summarize(spec, DIGITS).problems[0]
    assert problem.layer_index == 0
    assert problem.message.startswith("Layer 1 (Reshape) cannot take the input (8, 8, 1)")


@pytest.mark.parametrize(
    ("units", "activation", "message"),
    [
        (5, "softmax", "has 10 classes: end with a Dense layer of 10 units"),
        (10, "relu", "must use softmax"),
    ],
)
def test_output_layer_is_checked_against_the_dataset(units, activation, message):
    spec = ModelSpec((LayerSpec.create("Flatten"),
                      LayerSpec.create("Dense", units=units, activation=activation)))
    summary = summarize(spec, DIGITS)
    assert summary.problems[0].layer_index == 1
    assert message in summary.problems[0].message


def test_empty_stack_and_build_model_raise_with_the_message():
    assert "no layers" in summarize(ModelSpec(), DIGITS).problems[0].message
    spec = ModelSpec((LayerSpec.create("Dense", units=10, activation="softmax"),))
    with pytest.raises(ModelSpecError) as info:
        build_model(spec, DIGITS)  # Dense on (8, 8, 1) gives (8, 8, 10), not (10,)
    assert info.value.layer_index == 0


def test_built_model_is_a_real_keras_model():
    model = build_model(default_project().model, DIGITS)
    assert isinstance(model, keras.Model)
    assert model.input_shape == (None, 8, 8, 1)
    assert model.output_shape == (None, 10)


@pytest.mark.parametrize(
    ("layers", "fix_text"),
    [
        ([LayerSpec.create("Flatten"), LayerSpec.create("Dense", units=5)],
         "Set the last Dense layer to 10 units with softmax"),
        ([LayerSpec.create("Flatten"), LayerSpec.create("Dropout")],
         "Add Dense(10, softmax)"),
        ([LayerSpec.create("Conv2D")], "Add Flatten and Dense(10, softmax)"),
    ],
)
def test_output_problems_come_with_a_fix_that_makes_the_stack_valid(layers, fix_text):
    problem = summarize(ModelSpec(tuple(layers)), DIGITS).problems[0]
    assert problem.fix_text == fix_text
    assert summarize(problem.fix, DIGITS).valid


def test_every_catalog_layer_builds_on_input_of_its_rank():
    from studio.core.layer_catalog import LAYER_TYPES

    sequence = BUILTIN_DATASETS["digits"]  # (8, 8, 1); rank-2 layers get a Reshape first
    for name, kind in LAYER_TYPES.items():
        front = ((LayerSpec.create("Reshape", target_shape=[8, 8]),)
                 if kind.input_rank == 2 else ())
        spec = ModelSpec((*front, LayerSpec.create(name), LayerSpec.create("Flatten"),
                          LayerSpec.create("Dense", units=10, activation="softmax")))
        summary = summarize(spec, sequence)
        assert summary.valid, (name, summary.problems)


def test_cached_answers_depend_on_the_input_shape_and_parameters():
    dense = LayerSpec.create("Dense", units=3, activation="softmax")
    iris = summarize(ModelSpec((dense,)), BUILTIN_DATASETS["iris"])  # 4 features
    wine = summarize(ModelSpec((dense,)), BUILTIN_DATASETS["wine"])  # 13 features
    assert (iris.total_params, wine.total_params) == (4 * 3 + 3, 13 * 3 + 3)
    wider = summarize(ModelSpec((dense.with_param("units", 5),)), BUILTIN_DATASETS["iris"])
    assert wider.total_params == 4 * 5 + 5
    assert summarize(ModelSpec((dense,)), BUILTIN_DATASETS["iris"]) == iris


def test_huge_layer_outputs_are_refused_even_with_few_parameters():
    up = LayerSpec.create("Conv2DTranspose", filters=1, kernel_size=64, strides=32)
    spec = ModelSpec((up, up, up, LayerSpec.create("GlobalAveragePooling2D"),
                      LayerSpec.create("Dense", units=10, activation="softmax")))
    summary = summarize(spec, DIGITS)
    assert not summary.valid
    assert summary.problems[0].layer_index == 1  # (9248, 9248, 1) already
    assert "values per sample, too many to train" in summary.problems[0].message


def test_starting_weights_do_not_depend_on_the_analysis_cache():
    from studio.ml import summary as summary_module

    spec = default_project().model
    summary_module._layer_facts.cache_clear()
    cold = build_model(spec, DIGITS, seed=3).get_weights()
    warm = build_model(spec, DIGITS, seed=3).get_weights()
    for a, b in zip(cold, warm, strict=True):
        np.testing.assert_array_equal(a, b)


def test_every_applicable_template_is_a_valid_stack_for_every_dataset():
    from studio.core.templates import TEMPLATES

    checked = 0
    for info in BUILTIN_DATASETS.values():
        for template in TEMPLATES.values():
            if template.unavailable_reason(info):
                continue
            summary = summarize(template.build(info), info)
            assert summary.valid, (template.name, info.name, summary.problems)
            checked += 1
    assert checked >= 14
