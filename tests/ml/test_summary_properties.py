"""Property test: no layer stack or parameter value can crash the analysis.

Every generated stack either is refused while it is being made (a ModelSpecError naming the
layer and parameter, as the form would show) or is analysed by Keras into a summary whose
problems name a layer. Nothing else may escape.
"""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from studio.core.dataset_catalog import BUILTIN_DATASETS
from studio.core.errors import ModelSpecError
from studio.core.layer_catalog import LAYER_TYPES, ParamSpec
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.ml.summary import summarize


def _values(spec: ParamSpec) -> st.SearchStrategy[object]:
    if spec.kind == "int":
        low, high = int(spec.minimum or 0), int(spec.maximum or 100)
        # Mostly valid values, sometimes just outside the range.
        return st.one_of(st.integers(low, min(high, 64)), st.integers(low - 2, high + 2))
    if spec.kind == "float":
        return st.one_of(st.floats(spec.minimum, spec.maximum),
                         st.floats(allow_nan=True, allow_infinity=True))
    if spec.kind == "choice":
        return st.one_of(st.sampled_from(spec.choices), st.text(max_size=5))
    if spec.kind == "bool":
        return st.one_of(st.booleans(), st.integers(0, 1))
    return st.one_of(st.lists(st.integers(-1, 16), min_size=0, max_size=4),
                     st.text(max_size=8))


@st.composite
def layers(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    kind = LAYER_TYPES[draw(st.sampled_from(sorted(LAYER_TYPES)))]
    names = draw(st.lists(st.sampled_from([p.name for p in kind.params]), unique=True)
                 if kind.params else st.just([]))
    return kind.name, {name: draw(_values(kind.param(name))) for name in names}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack=st.lists(layers(), min_size=0, max_size=6),
       dataset=st.sampled_from(sorted(BUILTIN_DATASETS)))
def test_every_stack_builds_or_names_the_layer_and_parameter(stack, dataset):
    specs = []
    for index, (type_name, params) in enumerate(stack):
        try:
            specs.append(LayerSpec.create(type_name, **params))
        except ModelSpecError as error:
            message = str(error)
            assert type_name in message and "parameter '" in message, message
            event("refused while editing")
            return
        assert len(specs) == index + 1
    summary = summarize(ModelSpec(tuple(specs)), BUILTIN_DATASETS[dataset])
    event(f"analysed, valid={summary.valid}")
    assert len(summary.rows) == len(specs)
    for problem in summary.problems:
        assert problem.message
        if problem.layer_index is not None:
            layer = specs[problem.layer_index]
            assert f"({layer.type}" in problem.message or f", {layer.type})" in problem.message
