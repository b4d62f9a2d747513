"""Growable x/y buffers for live curves: append is amortised O(1), views are zero-copy.

Capacity doubles when full (as in pyqtgraph's scrollingPlots example), so a million batch
points cost about twenty reallocations, not a million.

``SmoothedCurveBuffer`` also keeps TensorBoard's smoothing of y (a debiased exponential
moving average) in a third row: it is updated in O(1) per appended point, so a redraw only
hands existing arrays to pyqtgraph, and it is recomputed once, vectorised, when the user
changes the strength.

``PeakDecimator`` reduces a long series to its min/max envelope, about two points per pixel,
from per-bucket extremes cached as the series grows: a redraw of a million points then costs
what a redraw of a few thousand does (pyqtgraph's own peak downsampling reads every point on
every redraw).
"""

from __future__ import annotations

import math

import numpy as np

# Block length of the vectorised recurrence: each level costs a (blocks x B) @ (B x B)
# product, i.e. B multiply-adds per point, and shrinks the problem B times.
_BLOCK = 64


class CurveBuffer:
    _ROWS = 2  # x, y (subclasses add rows after these)

    def __init__(self, capacity: int = 1024) -> None:
        self._data = np.empty((self._ROWS, max(1, capacity)), dtype=np.float64)
        self._size = 0
        self._increasing = True  # x never decreased: nearest-x look-ups can bisect

    def __len__(self) -> int:
        return self._size

    def _reserve(self, extra: int) -> None:
        capacity = self._data.shape[1]
        if self._size + extra <= capacity:
            return
        while capacity < self._size + extra:
            capacity *= 2
        grown = np.empty((self._ROWS, capacity), dtype=np.float64)
        grown[:, : self._size] = self._data[:, : self._size]
        self._data = grown

    def append(self, x: float, y: float) -> None:
        self._reserve(1)
        if self._size and x < self._data[0, self._size - 1]:
            self._increasing = False
        self._data[0, self._size] = x
        self._data[1, self._size] = y
        self._size += 1

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        """Append many points at once (e.g. a run's history), without a Python loop."""
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError(f"x and y differ in length: {x.size} and {y.size}")
        if x.size == 0:
            return
        self._reserve(x.size)
        previous = self._data[0, self._size - 1] if self._size else -np.inf
        if x[0] < previous or bool(np.any(np.diff(x) < 0)):
            self._increasing = False
        self._data[0, self._size : self._size + x.size] = x
        self._data[1, self._size : self._size + x.size] = y
        self._size += x.size

    def clear(self) -> None:
        self._size = 0
        self._increasing = True

    @property
    def x(self) -> np.ndarray:
        return self._data[0, : self._size]

    @property
    def y(self) -> np.ndarray:
        return self._data[1, : self._size]

    @property
    def increasing(self) -> bool:
        """True while x never decreased (bisecting x is then valid)."""
        return self._increasing

    def nearest_index(self, x: float) -> int | None:
        """Index of the point whose x is nearest to ``x`` (None when empty).

        Bisects while x only grew (training x does), else falls back to a linear scan.
        """
        if self._size == 0:
            return None
        xs = self.x
        if not self._increasing:
            return int(np.nanargmin(np.abs(xs - x))) if np.isfinite(xs).any() else None
        right = int(np.searchsorted(xs, x))
        if right == 0:
            return 0
        if right == self._size:
            return self._size - 1
        return right if xs[right] - x < x - xs[right - 1] else right - 1


class SmoothedCurveBuffer(CurveBuffer):
    """A curve buffer with TensorBoard-style smoothing of y kept alongside (``smoothed``).

    smoothed[i] = ema[i] / (1 - w ** n), ema[i] = w * ema[i-1] + (1 - w) * y[i], where n
    counts the finite values so far: the division removes the bias towards the initial 0.
    Non-finite y (a diverged loss) is passed through and does not disturb the average, as in
    TensorBoard. TensorBoard's special case for an all-constant series is not needed: the
    debiased average of a constant is that constant.
    """

    _ROWS = 3  # x, y, smoothed y

    def __init__(self, capacity: int = 1024, weight: float = 0.6) -> None:
        super().__init__(capacity)
        self._weight = _check_weight(weight)
        self._ema = 0.0  # the undebiased average after the last finite value
        self._count = 0  # finite values averaged so far

    @property
    def weight(self) -> float:
        return self._weight

    @property
    def smoothed(self) -> np.ndarray:
        return self._data[2, : self._size]

    def append(self, x: float, y: float) -> None:
        super().append(x, y)
        if math.isfinite(y):
            w = self._weight
            self._ema = w * self._ema + (1.0 - w) * y
            self._count += 1
            y = self._ema / (1.0 - w**self._count)
        self._data[2, self._size - 1] = y

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        start = self._size
        super().extend(x, y)
        self._smooth_from(start)

    def clear(self) -> None:
        super().clear()
        self._ema, self._count = 0.0, 0

    def set_weight(self, weight: float) -> None:
        """Change the strength (0 = raw, 0.99 = very smooth) and recompute every point once."""
        self._weight = _check_weight(weight)
        self._ema, self._count = 0.0, 0
        self._smooth_from(0)

    def _smooth_from(self, start: int) -> None:
        """Vectorised smoothing of points ``start:``, continuing the running average."""
        y = self._data[1, start : self._size]
        out = self._data[2, start : self._size]
        finite = np.isfinite(y)
        all_finite = bool(finite.all())
        values = y if all_finite else y[finite]
        if values.size == 0:
            out[:] = y
            return
        w = self._weight
        ema = linear_recurrence((1.0 - w) * values, w, self._ema)
        if all_finite:
            np.divide(ema, _debias(w, self._count, values.size), out=out)
        else:
            out[:] = y
            out[finite] = ema / _debias(w, self._count, values.size)
        self._ema, self._count = float(ema[-1]), self._count + values.size


class PeakDecimator:
    """Min/max envelope of a growing series, per power-of-two bucket size, cached.

    Bucket k of size b covers points [k*b, (k+1)*b); it is drawn as two points at the x of
    its first point, its max then its min (pyqtgraph's "peak" method). The extremes of the
    complete buckets are kept per size and only new buckets are computed on later calls; the
    incomplete last bucket is passed through raw, so the newest points are always exact.
    NaN is ignored within a bucket (a bucket of NaN only stays NaN). Call ``reset`` when
    the series' existing values change (cleared, or smoothed again).
    """

    def __init__(self) -> None:
        self._levels: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def reset(self) -> None:
        self._levels.clear()

    def decimate(self, x: np.ndarray, y: np.ndarray, start: int, stop: int,
                 buckets: int) -> tuple[np.ndarray, np.ndarray]:
        """The envelope of points [start, stop) in ``buckets / 2`` to ``buckets`` buckets
        (two points each); the points themselves when there are no more than ``buckets``."""
        count = stop - start
        if count <= 2 * max(1, buckets):
            return x[start:stop], y[start:stop]
        size = 1 << math.ceil(math.log2(count / buckets))
        mins, maxs = self._envelope(y, size)
        first = start // size
        last = min(-(-stop // size), mins.size)  # complete buckets only
        xs = np.repeat(x[first * size : last * size : size], 2)
        ys = np.empty(xs.size)
        ys[0::2] = maxs[first:last]
        ys[1::2] = mins[first:last]
        tail = slice(last * size, stop) if last * size < stop else slice(stop - 1, stop)
        return np.concatenate((xs, x[tail])), np.concatenate((ys, y[tail]))

    def _envelope(self, y: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        mins, maxs = self._levels.get(size, (np.empty(0), np.empty(0)))
        complete = y.size // size
        if complete < mins.size:  # the series shrank without a reset: start over
            mins, maxs = np.empty(0), np.empty(0)
        if complete > mins.size:
            block = y[mins.size * size : complete * size].reshape(-1, size)
            mins = np.concatenate((mins, np.fmin.reduce(block, axis=1)))
            maxs = np.concatenate((maxs, np.fmax.reduce(block, axis=1)))
        self._levels[size] = (mins, maxs)
        return mins, maxs


def linear_recurrence(u: np.ndarray, a: float, s0: float = 0.0) -> np.ndarray:
    """s[i] = a * s[i-1] + u[i] with s[-1] = s0, for 0 <= a <= 1, without a Python loop.

    The series is cut into blocks of ``_BLOCK``: within a block the recurrence from zero is a
    product with a lower-triangular matrix of powers of ``a``; the values carried from block
    to block obey the same recurrence with a**_BLOCK, solved recursively (1M points: three
    levels). Only powers <= 1 appear, so it is as stable as the plain loop.
    """
    u = np.asarray(u, dtype=np.float64)
    n = u.size
    b = min(_BLOCK, n)
    if n == 0:
        return u.copy()
    lags = np.arange(b)
    powers = np.power(a, lags.astype(np.float64))  # a**0 .. a**(b-1); 0.0**0 == 1
    lag = lags[None, :] - lags[:, None]  # lag[k, i] = i - k
    triangle = np.where(lag >= 0, powers[np.clip(lag, 0, None)], 0.0)
    blocks = -(-n // b)
    padded = np.zeros(blocks * b)
    padded[:n] = u
    within = padded.reshape(blocks, b) @ triangle  # each block started from 0
    if blocks == 1:
        carried_in = np.array([s0])
    else:
        ends = linear_recurrence(within[:, -1], a**b, s0)
        carried_in = np.concatenate(([s0], ends[:-1]))
    within += carried_in[:, None] * (a * powers)[None, :]  # a**(i+1) * carried value
    return within.reshape(-1)[:n]


def _debias(w: float, done: int, n: int) -> np.ndarray:
    """1 - w**k for k = done+1 .. done+n; only the first few differ from 1.0 in float64.

    (Powers are slow: computing a million of them would cost more than the smoothing.)
    """
    factors = np.ones(n)
    # w**k < 2**-60 makes 1 - w**k round to exactly 1.0.
    significant = 0 if w == 0.0 else math.ceil(-60 * math.log(2) / math.log(w))
    k = min(n, max(0, significant - done))
    if k:
        factors[:k] = 1.0 - np.power(w, np.arange(done + 1, done + k + 1, dtype=np.float64))
    return factors


def _check_weight(weight: float) -> float:
    weight = float(weight)
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), not {weight}")
    return weight
