"""What "find the largest batch that fits" found: one trial per batch size, and a verdict.

Plain data, filled by ``studio.ml.batch_probe``, so the sizes tried and the wording of the
verdict are decided (and tested) without TensorFlow or a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchTrial:
    """A few training steps at one batch size; ``message`` says why it did not fit."""

    batch_size: int
    fits: bool
    samples_per_second: float | None
    message: str = ""  # a clause, e.g. "ran out of GPU memory"


@dataclass(frozen=True)
class BatchProbeResult:
    """The trials in the order tried; the first that did not fit, if any, is the last.

    ``training_samples`` (the training split's size) says whether trying stopped because a
    batch cannot be larger than the data rather than at the probe's own limit.
    """

    trials: tuple[BatchTrial, ...]
    cancelled: bool = False
    training_samples: int | None = None

    @property
    def largest_fit(self) -> int | None:
        return max((t.batch_size for t in self.trials if t.fits), default=None)

    @property
    def fastest(self) -> BatchTrial | None:
        timed = [t for t in self.trials if t.fits and t.samples_per_second is not None]
        return max(timed, key=lambda t: t.samples_per_second or 0.0, default=None)

    @property
    def first_failure(self) -> BatchTrial | None:
        return next((t for t in self.trials if not t.fits), None)

    def summary(self) -> str:
        """The verdict in plain words, with the fastest size when one was timed."""
        largest, failure = self.largest_fit, self.first_failure
        if not self.trials:
            return ("Cancelled before any batch size was tried." if self.cancelled
                    else "No batch size was tried.")
        if largest is None:
            assert failure is not None
            return (f"Not even a batch of {failure.batch_size} fits: it "
                    f"{failure.message or 'did not fit'}. Make the model smaller, or use a "
                    "device with more memory.")
        if failure is not None:
            text = (f"The largest batch that fits is {largest} (tried up to "
                    f"{failure.batch_size}, which {failure.message or 'did not fit'}).")
        elif self.cancelled:
            text = (f"Cancelled after {self.trials[-1].batch_size}: the largest batch that "
                    f"fits so far is {largest}.")
        elif largest == self.training_samples:
            text = (f"Every size up to {largest} fits (the training split has "
                    f"{largest:,} samples, the most a batch can use).")
        else:
            text = f"Every size up to {largest} fits (the largest this search tries)."
        fastest = self.fastest
        if fastest is not None and fastest.samples_per_second is not None:
            text += (f" Fastest: {fastest.batch_size} at "
                     f"{format_rate(fastest.samples_per_second)} samples/s.")
        return text


def format_rate(samples_per_second: float) -> str:
    """Three significant figures: the timings of a few steps are no more precise than that."""
    rounded = float(f"{samples_per_second:.3g}")
    return f"{rounded:,.0f}" if rounded >= 100 else f"{rounded:g}"


def batch_sizes(start: int, cap: int) -> list[int]:
    """``start`` doubled until ``cap``, which is always tried last (power of two or not)."""
    if start < 1 or cap < 1:
        raise ValueError(f"batch sizes must be positive; got start={start}, cap={cap}")
    sizes = []
    size = start
    while size < cap:
        sizes.append(size)
        size *= 2
    sizes.append(cap)
    return sizes
