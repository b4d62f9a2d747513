"""Compare runs: which settings differ, and the curves to overlay."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"training": {"epochs": 5}}`` -> ``{"training.epochs": 5}``; lists of layers are
    numbered (``model.layers.2.params.units``), so an architecture change shows per layer."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            for index, item in enumerate(value):
                flat.update(flatten(item, f"{name}.{index + 1}."))
            flat[f"{name}.count"] = len(value)
        else:
            flat[name] = value
    return flat


def differences(projects: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Any]]]:
    """The settings whose values are not the same in every project, in a stable order."""
    flats = [flatten(project) for project in projects]
    keys = sorted({key for flat in flats for key in flat})
    missing = object()
    rows = []
    for key in keys:
        values = [flat.get(key, missing) for flat in flats]
        if any(value != values[0] for value in values[1:]):
            rows.append((key, [None if v is missing else v for v in values]))
    return rows
