"""Input and Normalization layers, initializers and regularizers, built for real by Keras."""

from __future__ import annotations

import keras
import numpy as np

from studio.core.dataset_catalog import BUILTIN_DATASETS
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.ml.normalization import adapt_normalization
from studio.ml.summary import build_model, summarize

DIGITS = BUILTIN_DATASETS["digits"]
IRIS = BUILTIN_DATASETS["iris"]
HEAD = (LayerSpec.create("Flatten"), LayerSpec.create("Dense", units=10, activation="softmax"))


def test_an_input_layer_states_the_dataset_shape_and_is_not_built_twice():
    spec = ModelSpec((LayerSpec.create("Input", shape=[8, 8, 1]), *HEAD))
    summary = summarize(spec, DIGITS)
    assert summary.valid
    assert summary.rows[0].output_shape == (8, 8, 1) and summary.rows[0].params == 0
    model = build_model(spec, DIGITS)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Flatten",
                                                                 "Dense"]


def test_an_input_of_another_shape_is_explained_with_a_fix():
    spec = ModelSpec((LayerSpec.create("Input", shape=[28, 28, 1]), *HEAD))
    problem = summarize(spec, DIGITS).problems[0]
    assert problem.layer_index == 0
    assert "(28, 28, 1)" in problem.message and "(8, 8, 1)" in problem.message
    assert problem.fix_text == "Set the Input shape to (8, 8, 1)"
    assert summarize(problem.fix, DIGITS).valid


def test_an_input_below_the_first_layer_is_refused_with_a_fix():
    spec = ModelSpec((HEAD[0], LayerSpec.create("Input", shape=[64]), HEAD[1]))
    problem = summarize(spec, DIGITS).problems[0]
    assert problem.layer_index == 1
    assert "only the first layer may be an Input" in problem.message
    assert summarize(problem.fix, DIGITS).valid


def test_initializer_and_regularizer_reach_the_keras_layer():
    dense = LayerSpec.create("Dense", units=3, activation="softmax",
                             kernel_initializer="zeros", kernel_regularizer="l2",
                             regularization=0.5)
    model = build_model(ModelSpec((dense,)), IRIS)
    layer = model.layers[-1]
    assert not np.any(layer.kernel.numpy())
    assert isinstance(layer.kernel_regularizer, keras.regularizers.L2)
    assert layer.kernel_regularizer.l2 == 0.5
    layer.kernel.assign(np.ones((4, 3), dtype="float32"))
    assert float(sum(model.losses)) == 0.5 * 12  # l2 * sum(w**2)


def test_no_regularizer_adds_no_loss():
    model = build_model(ModelSpec((LayerSpec.create("Dense", units=3,
                                                    activation="softmax"),)), IRIS)
    assert model.layers[-1].kernel_regularizer is None and not model.losses


def test_normalization_layers_learn_the_statistics_of_what_they_receive():
    spec = ModelSpec((
        LayerSpec.create("Normalization"),
        LayerSpec.create("Dense", units=5, activation="relu"),
        LayerSpec.create("Normalization"),
        LayerSpec.create("Dense", units=3, activation="softmax"),
    ))
    summary = summarize(spec, IRIS)
    assert summary.valid and summary.rows[0].params == 4 + 4 + 1  # mean, variance, count
    model = build_model(spec, IRIS, seed=1)
    rng = np.random.default_rng(0)
    x = rng.normal(loc=[1.0, 5.0, -3.0, 10.0], scale=[1.0, 2.0, 0.5, 3.0],
                   size=(200, 4)).astype("float32")
    assert adapt_normalization(model, x) == 2
    first, hidden = model.layers[1], model.layers[3]
    np.testing.assert_allclose(np.ravel(first.mean), x.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(np.ravel(first.variance), x.var(axis=0), rtol=1e-3)
    upstream = keras.Model(model.inputs, hidden.input).predict(x, verbose=0)
    np.testing.assert_allclose(np.ravel(hidden.mean), upstream.mean(axis=0), rtol=1e-3,
                               atol=1e-5)
    normalised = keras.Model(model.inputs, first.output).predict(x, verbose=0)
    np.testing.assert_allclose(normalised.mean(axis=0), 0.0, atol=1e-4)
