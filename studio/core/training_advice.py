"""Plain-words warnings about a run's curves: a plateau, a widening gap, a diverging loss.

Pure functions of the per-epoch history, so the window's log and the tests share them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise

PLATEAU_EPOCHS = 5
GAP_EPOCHS = 3


def plateau(history: Sequence[Mapping[str, float]], key: str = "val_loss") -> str | None:
    """The monitored loss has not improved (by 0.1 %) for PLATEAU_EPOCHS epochs."""
    values = [row[key] for row in history if key in row and math.isfinite(row[key])]
    if len(values) <= PLATEAU_EPOCHS:
        return None
    best_before = min(values[:-PLATEAU_EPOCHS])
    recent = min(values[-PLATEAU_EPOCHS:])
    if recent < best_before - 0.001 * abs(best_before):
        return None
    return (f"{key} has not improved for {PLATEAU_EPOCHS} epochs: training may have "
            "plateaued. Lower the learning rate (or use a schedule), or stop here.")


def widening_gap(history: Sequence[Mapping[str, float]]) -> str | None:
    """Validation loss pulls away from training loss for GAP_EPOCHS epochs in a row."""
    rows = [row for row in history if "loss" in row and "val_loss" in row]
    if len(rows) <= GAP_EPOCHS:
        return None
    gaps = [row["val_loss"] - row["loss"] for row in rows[-GAP_EPOCHS - 1:]]
    if not all(math.isfinite(g) for g in gaps):
        return None
    growing = all(later > earlier for earlier, later in pairwise(gaps))
    last = rows[-1]
    if growing and last["val_loss"] > 1.2 * last["loss"] and gaps[-1] > 0.02:
        return ("The gap between training and validation loss keeps widening: the model is "
                "probably over-fitting. Add Dropout or a weight regularizer, get more data, or "
                "turn on early stopping.")
    return None


def not_finite(row: Mapping[str, float]) -> str | None:
    if all(math.isfinite(value) for value in row.values()):
        return None
    return ("The loss became NaN or infinite, so training stops. Lower the learning rate, "
            "check the data for extreme values, or normalise the inputs.")
