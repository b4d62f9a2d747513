"""Trying a model on one input: the project's own normalisation, resizing, typed rows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from studio.core.dataset_catalog import BUILTIN_DATASETS
from studio.core.dataset_spec import BuiltinSource, DatasetSpec
from studio.core.defaults import default_project
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.core.prediction import BadInput
from studio.ml.datasets import load_dataset, read_source, split_indices
from studio.ml.predict import (
    class_probabilities,
    format_from_raw,
    image_to_input,
    input_format,
    predict_one,
    resize_image,
    row_to_input,
    try_image,
    try_row,
)
from studio.ml.summary import build_model

DIGITS = DatasetSpec(BuiltinSource("digits"))
IRIS = DatasetSpec(BuiltinSource("iris"), test_split=0.2)


@pytest.fixture(scope="module")
def digits_model():
    return build_model(default_project().model, DIGITS.info, seed=1)


@pytest.mark.parametrize("how", ["auto", "standardize", "minmax", "none"])
def test_the_format_normalises_exactly_like_training(how):
    spec = replace(DatasetSpec(BuiltinSource("breast_cancer"), test_split=0.2),
                   normalization=how)
    fmt = input_format(spec)
    raw = read_source(spec.source, spec.seed)
    _, _, test = split_indices(raw.y, spec, spec.info)
    assert np.allclose(fmt.normalise(raw.x[test]), load_dataset(spec).x_test, atol=1e-4)
    assert np.allclose(fmt.raw(fmt.normalise(raw.x[test])), raw.x[test], rtol=1e-4, atol=1e-3)


def test_digits_are_scaled_from_their_0_to_16_range():
    fmt = input_format(DIGITS)
    assert fmt.shape == (8, 8, 1) and fmt.raw_max == 16.0
    assert np.allclose(fmt.gain, 1 / 16) and np.allclose(fmt.shift, 0)


def test_a_drawing_becomes_the_model_input_shape_and_range():
    fmt = input_format(DIGITS)
    white = image_to_input(np.full((168, 168), 255, np.uint8), fmt)
    black = image_to_input(np.zeros((168, 168), np.uint8), fmt)
    assert white.shape == black.shape == (8, 8, 1) and white.dtype == np.float32
    assert np.allclose(white, 1.0) and np.allclose(black, 0.0)  # 16 / 16 and 0 / 16
    half = np.zeros((168, 168), np.uint8)
    half[:, :84] = 255
    assert np.allclose(image_to_input(half, fmt)[:, :4], 1.0)
    assert np.allclose(image_to_input(half, fmt)[:, 4:], 0.0)


def test_fitting_to_content_centres_a_small_drawing():
    stroke = np.zeros((168, 168), np.uint8)
    stroke[21:84, 0:21] = 255  # a short upright stroke at the left edge
    plain = resize_image(stroke, (8, 8), 1)[..., 0]
    assert np.array_equal(np.nonzero(plain)[1], [0, 0, 0])  # left column, 3 blocks
    fitted = resize_image(stroke, (8, 8), 1, fit_to_content=True)[..., 0]
    rows, cols = np.nonzero(fitted > 128)
    assert rows.max() - rows.min() >= 6  # scaled up to nearly the full height
    assert 3 <= cols.mean() <= 4.5  # and centred across


def test_grey_replicates_into_three_channels_and_colour_turns_grey():
    colour = resize_image(np.full((20, 20), 200, np.uint8), (4, 4), 3)
    assert colour.shape == (4, 4, 3) and np.allclose(colour, 200)
    red = np.zeros((20, 20, 3), np.uint8)
    red[..., 0] = 255
    assert np.allclose(resize_image(red, (4, 4), 1), 0.299 * 255, atol=0.5)
    assert np.allclose(resize_image(red, (4, 4), 1, invert=True), 255 - 0.299 * 255, atol=0.5)
    with pytest.raises(BadInput, match="Not an image"):
        resize_image(np.zeros(5), (4, 4), 1)


def test_a_typed_row_is_normalised_like_the_data():
    fmt = input_format(IRIS)
    row = row_to_input("5.1, 3.5, 1.4, 0.2", fmt)
    assert row.shape == (4,)
    assert np.allclose(row, fmt.normalise(np.array([5.1, 3.5, 1.4, 0.2])))
    assert np.allclose(row_to_input("5.1 3.5 1.4 0.2", fmt), row)
    assert np.allclose(row_to_input("5.1;3.5;1.4;0.2", fmt), row)


@pytest.mark.parametrize(("text", "message"), [
    ("", r"Type 4 values separated by commas: sepal length \(cm\), sepal width \(cm\)"),
    ("1, 2, 3", r"Expected 4 values \(sepal length \(cm\), .*\); got 3"),
    ("1, 2, abc, 4", r"'petal length \(cm\)' \(value 3 of 4\): 'abc' is not a number"),
    ("1, nan, 3, 4", r"'sepal width \(cm\)' \(value 2 of 4\): 'nan' is not a finite number"),
])
def test_bad_rows_name_the_field(text, message):
    with pytest.raises(BadInput, match=message):
        row_to_input(text, input_format(IRIS))


def test_feature_names_fall_back_to_numbers():
    x = np.zeros((5, 3), np.float32)
    assert format_from_raw(x, "none", None).feature_names == ("x1", "x2", "x3")


def test_predict_one_gives_the_models_probabilities(digits_model):
    data = load_dataset(DIGITS)
    probabilities = predict_one(digits_model, data.x_val[0], 10)
    assert probabilities.shape == (10,) and probabilities.sum() == pytest.approx(1.0)
    expected = digits_model.predict(data.x_val[:1], verbose=0)[0]
    assert np.allclose(probabilities, expected, atol=1e-6)


def test_one_sigmoid_unit_reads_as_two_class_probabilities():
    assert np.allclose(class_probabilities(np.array([[0.8], [0.1]]), 2),
                       [[0.2, 0.8], [0.9, 0.1]])


def test_try_image_and_try_row_give_plain_predictions(digits_model):
    fmt = input_format(DIGITS)
    drawing = np.zeros((168, 168), np.uint8)
    drawing[20:150, 76:92] = 255
    prediction = try_image(digits_model, DIGITS.info, fmt, drawing, fit_to_content=True)
    assert prediction.names == BUILTIN_DATASETS["digits"].class_names
    assert sum(prediction.values) == pytest.approx(1.0)
    assert prediction.seen_size == (8, 8) and len(prediction.seen) == 64
    iris_model = build_model(ModelSpec((LayerSpec.create("Dense", units=3,
                                                         activation="softmax"),)), IRIS.info)
    typed = try_row(iris_model, IRIS.info, input_format(IRIS), "5.1, 3.5, 1.4, 0.2")
    assert typed.names == ("setosa", "versicolor", "virginica")
    assert sum(typed.values) == pytest.approx(1.0) and typed.seen_size is None
    with pytest.raises(BadInput, match="not images"):
        try_image(iris_model, IRIS.info, input_format(IRIS), drawing)
    with pytest.raises(BadInput, match="Expected 4 values"):
        try_row(iris_model, IRIS.info, input_format(IRIS), "1, 2")
