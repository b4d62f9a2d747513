"""One prediction of the "Try the model" panel, as plain data, and what input a model takes.

The panel offers a drawing canvas only to models whose input is an image (one or three
channels) and a row of values only to models whose input is a flat vector; deciding that is
pure logic, so it lives here and is tested without Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.core.dataset_catalog import DatasetInfo, Task
from studio.core.errors import StudioError


def image_input(info: DatasetInfo) -> tuple[int, int, int] | None:
    """(height, width, channels) when the model takes a grey or colour image, else None."""
    shape = info.input_shape
    if len(shape) == 3 and shape[2] in (1, 3):
        return shape[0], shape[1], shape[2]
    return None


def row_input(info: DatasetInfo) -> int | None:
    """The number of values in a row when the model takes a flat vector, else None."""
    shape = info.input_shape
    return shape[0] if len(shape) == 1 else None


@dataclass(frozen=True)
class Prediction:
    task: Task
    #: Class names, or for a regression "value" (or "value 1", "value 2", ...).
    names: tuple[str, ...]
    #: Class probabilities, or the predicted values.
    values: tuple[float, ...]
    #: For image input: the grey pixels the model saw (uint8, after resizing), to show it.
    seen: bytes = b""
    seen_size: tuple[int, int] | None = None  # height, width

    @property
    def best(self) -> int:
        """Index of the most probable class (0 for a regression)."""
        return max(range(len(self.values)), key=self.values.__getitem__) if self.values else 0

    def text(self, alternatives: int = 2) -> str:
        """In words, e.g. "7 (93.1%); then 1 (4.0%), 9 (1.2%)" or "value 0.8312"."""
        if self.task == "regression":
            return ", ".join(f"{name} {value:.4g}"
                             for name, value in zip(self.names, self.values, strict=True))
        order = sorted(range(len(self.values)), key=lambda i: -self.values[i])
        first, rest = order[0], order[1:alternatives + 1]
        text = f"{self.names[first]} ({self.values[first]:.1%})"
        if rest:
            text += "; then " + ", ".join(f"{self.names[i]} ({self.values[i]:.1%})"
                                         for i in rest)
        return text


class BadInput(StudioError):
    """Typed or loaded input the model cannot take; the message names the field."""
