"""The result of analysing a layer stack: shapes, parameter counts and problems per layer.

Produced by ``studio.ml.summary`` (which asks Keras), consumed by views and ``studio
summary``; plain data so it can cross threads and be tested without TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.core.model_spec import ModelSpec


@dataclass(frozen=True)
class LayerProblem:
    """Something wrong with one layer (or, with ``layer_index`` None, with the whole stack)."""

    layer_index: int | None
    message: str
    #: A corrected stack the user can apply with one click, and what it changes.
    fix: ModelSpec | None = None
    fix_text: str = ""


@dataclass(frozen=True)
class LayerRow:
    index: int
    name: str
    type: str
    output_shape: tuple[int | None, ...] | None  # None: not reached (an earlier layer failed)
    params: int | None


@dataclass(frozen=True)
class ModelSummary:
    input_shape: tuple[int, ...]
    rows: tuple[LayerRow, ...]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    problems: tuple[LayerProblem, ...] = field(default=())

    @property
    def valid(self) -> bool:
        return not self.problems

    def problem_for(self, index: int) -> LayerProblem | None:
        for problem in self.problems:
            if problem.layer_index == index:
                return problem
        return None


def format_shape(shape: tuple[int | None, ...] | None) -> str:
    """``(8, 8, 16)`` for one sample (the batch axis is left out); an em dash when unknown."""
    if shape is None:
        return "—"
    dims = ", ".join("?" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"
