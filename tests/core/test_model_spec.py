"""Layer specs: validation per parameter, editing helpers, JSON shape."""

from __future__ import annotations

import pytest

from studio.core.errors import ModelSpecError
from studio.core.layer_catalog import LAYER_TYPES, layer_type
from studio.core.model_spec import LayerSpec, ModelSpec


def test_create_fills_defaults_and_validates():
    layer = LayerSpec.create("Conv2D", filters=8)
    assert layer.params["filters"] == 8
    assert layer.params["kernel_size"] == 3
    with pytest.raises(ModelSpecError, match="filters' must be between 1 and 4096"):
        LayerSpec.create("Conv2D", filters=5000)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("units", 2.5, "whole number"),
        ("units", "ten", "must be a number"),
        ("units", True, "must be a number"),
        ("activation", "banana", "must be one of"),
        ("use_bias", "yes", "true or false"),
    ],
)
def test_with_param_refuses_bad_values_with_the_layer_and_param(name, value, message):
    layer = LayerSpec.create("Dense")
    with pytest.raises(ModelSpecError, match=message) as info:
        layer.with_param(name, value, index=2)
    assert f"Layer 3 (Dense) parameter '{name}'" in str(info.value)


def test_shape_parameter_accepts_text_and_lists():
    layer = LayerSpec.create("Reshape")
    assert layer.with_param("target_shape", "4, 4,4").params["target_shape"] == (4, 4, 4)
    assert layer.with_param("target_shape", [2, 32]).params["target_shape"] == (2, 32)
    with pytest.raises(ModelSpecError, match="whole numbers separated by commas"):
        layer.with_param("target_shape", "4, four")
    with pytest.raises(ModelSpecError, match=">= 1"):
        layer.with_param("target_shape", [0, 4])


def test_editing_helpers_return_new_specs():
    spec = ModelSpec((LayerSpec.create("Dense", units=1), LayerSpec.create("Dense", units=2),
                      LayerSpec.create("Dense", units=3)))
    assert [layer.params["units"] for layer in spec.moved(0, 2).layers] == [2, 3, 1]
    assert [layer.params["units"] for layer in spec.removed(1).layers] == [1, 3]
    inserted = spec.inserted(1, LayerSpec.create("Flatten"))
    assert [layer.type for layer in inserted.layers] == ["Dense", "Flatten", "Dense", "Dense"]
    assert len(spec.layers) == 3  # unchanged


def test_to_dict_from_dict_round_trip_for_every_layer_type():
    spec = ModelSpec(tuple(LayerSpec.create(name) for name in LAYER_TYPES))
    assert ModelSpec.from_dict(spec.to_dict()) == spec


def test_from_dict_marks_the_layer_index():
    with pytest.raises(ModelSpecError) as info:
        ModelSpec.from_dict({"layers": [{"type": "Dense"}, {"type": "Dense",
                                                            "params": {"units": -1}}]})
    assert info.value.layer_index == 1


def test_every_parameter_has_help_and_a_valid_default():
    for kind in LAYER_TYPES.values():
        assert kind.help
        for param in kind.params:
            assert param.help, f"{kind.name}.{param.name} has no tooltip text"
            param.coerce(param.default, "default")


def test_unknown_type_lists_the_known_ones():
    with pytest.raises(ModelSpecError, match="known types: Input, Dense"):
        layer_type("LSTM9")


def test_table_summary_mentions_weight_options_only_when_changed():
    plain = LayerSpec.create("Dense", units=8)
    assert plain.describe() == "units=8, activation=relu, use_bias=True"
    tuned = plain.with_param("kernel_regularizer", "l2").with_param("regularization", 0.001)
    assert tuned.describe().endswith("kernel_regularizer=l2, regularization=0.001")
