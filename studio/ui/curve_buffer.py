"""A growable x/y buffer for live curves: append is amortised O(1), views are zero-copy.

Capacity doubles when full (as in pyqtgraph's scrollingPlots example), so a million batch
points cost about twenty reallocations, not a million.
"""

from __future__ import annotations

import numpy as np


class CurveBuffer:
    def __init__(self, capacity: int = 1024) -> None:
        self._data = np.empty((2, capacity), dtype=np.float64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, x: float, y: float) -> None:
        if self._size == self._data.shape[1]:
            grown = np.empty((2, self._data.shape[1] * 2), dtype=np.float64)
            grown[:, : self._size] = self._data[:, : self._size]
            self._data = grown
        self._data[0, self._size] = x
        self._data[1, self._size] = y
        self._size += 1

    def clear(self) -> None:
        self._size = 0

    @property
    def x(self) -> np.ndarray:
        return self._data[0, : self._size]

    @property
    def y(self) -> np.ndarray:
        return self._data[1, : self._size]
