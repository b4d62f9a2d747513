"""A model as data: an ordered stack of layers with their parameters.

The input shape is not part of the stack: it comes from the dataset, so the same stack can be
reused on data of another shape (and templates can adapt).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from studio.core.errors import ModelSpecError
from studio.core.layer_catalog import LayerType, ParamValue, layer_type


@dataclass(frozen=True)
class LayerSpec:
    """One layer: a catalog type name and its complete, validated parameters."""

    type: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    @property
    def catalog(self) -> LayerType:
        return layer_type(self.type)

    @classmethod
    def create(cls, type_name: str, **params: object) -> LayerSpec:
        """A layer of ``type_name`` with defaults for every parameter not given."""
        kind = layer_type(type_name)
        return cls(type_name, kind.validate(params, type_name))

    def with_param(self, name: str, value: object, index: int | None = None) -> LayerSpec:
        """A copy with one parameter changed (validated; raises ModelSpecError)."""
        where = _where(index, self.type)
        spec = self.catalog.param(name)
        coerced = spec.coerce(value, f"{where} parameter '{name}'")
        return replace(self, params={**self.params, name: coerced})

    def describe(self) -> str:
        """Short parameter summary for a table cell, e.g. ``filters=16, kernel_size=3``."""
        parts = []
        for spec in self.catalog.params:
            value = self.params.get(spec.name, spec.default)
            unused = spec.unused_when is not None and \
                self.params.get(spec.unused_when[0]) == spec.unused_when[1]
            if unused or (spec.advanced and value == spec.default):
                continue
            if isinstance(value, tuple):
                value = "x".join(str(v) for v in value)
            parts.append(f"{spec.name}={value}")
        return ", ".join(parts)


def _where(index: int | None, type_name: str) -> str:
    return f"Layer {index + 1} ({type_name})" if index is not None else type_name


@dataclass(frozen=True)
class ModelSpec:
    """The ordered stack of layers that the builder edits."""

    layers: tuple[LayerSpec, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "layers": [
                {"type": layer.type, "params": {k: _jsonable(v) for k, v in layer.params.items()}}
                for layer in self.layers
            ]
        }

    @classmethod
    def from_dict(cls, data: object) -> ModelSpec:
        """Parse and validate; every error names the layer (1-based) and parameter."""
        if not isinstance(data, Mapping) or not isinstance(data.get("layers"), list):
            raise ModelSpecError("The model must have a 'layers' list.")
        layers = []
        for index, item in enumerate(data["layers"]):
            if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
                raise ModelSpecError(
                    f"Layer {index + 1} must be an object with a 'type' name.", layer_index=index
                )
            where = _where(index, item["type"])
            params = item.get("params", {})
            if not isinstance(params, Mapping):
                raise ModelSpecError(f"{where}: 'params' must be an object.", layer_index=index)
            try:
                kind = layer_type(item["type"], f"Layer {index + 1}")
                layers.append(LayerSpec(kind.name, kind.validate(params, where)))
            except ModelSpecError as error:
                raise ModelSpecError(str(error), layer_index=index) from None
        return cls(tuple(layers))

    # Editing helpers: each returns a new spec, which keeps undo trivial.
    def inserted(self, index: int, layer: LayerSpec) -> ModelSpec:
        layers = list(self.layers)
        layers.insert(index, layer)
        return ModelSpec(tuple(layers))

    def removed(self, index: int) -> ModelSpec:
        return ModelSpec(self.layers[:index] + self.layers[index + 1 :])

    def moved(self, index: int, new_index: int) -> ModelSpec:
        layers = list(self.layers)
        layers.insert(new_index, layers.pop(index))
        return ModelSpec(tuple(layers))

    def replaced(self, index: int, layer: LayerSpec) -> ModelSpec:
        layers = list(self.layers)
        layers[index] = layer
        return ModelSpec(tuple(layers))


def _jsonable(value: ParamValue) -> object:
    return list(value) if isinstance(value, tuple) else value
