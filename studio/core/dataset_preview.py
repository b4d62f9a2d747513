"""What the Data tab shows about a dataset: split sizes, class balance and a few samples.

Plain data (no numpy) so it crosses from the ML thread to the view and is testable alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.core.dataset_catalog import DatasetInfo

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class DatasetPreview:
    info: DatasetInfo
    #: Samples per split, in SPLITS order.
    split_sizes: tuple[int, int, int]
    #: Per split, samples per class (classification only; empty for regression).
    class_counts: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
    #: Column names of ``rows`` (tabular data).
    feature_names: tuple[str, ...]
    #: The first samples as they were read (before normalisation), flattened.
    rows: tuple[tuple[float, ...], ...]
    #: Their labels: class names, or target values as text.
    labels: tuple[str, ...]
    #: For image data: each sample's raw pixels (uint8, height x width x channels).
    images: tuple[bytes, ...] = ()
    image_shape: tuple[int, int, int] | None = None
    normalization: str = ""
    #: For regression: (minimum, mean, maximum) of the target on the training split.
    target_range: tuple[float, float, float] | None = None

    @property
    def is_images(self) -> bool:
        return self.image_shape is not None

    def summary(self) -> str:
        """One paragraph for the Data tab."""
        train, val, test = self.split_sizes
        info = self.info
        shape = "x".join(str(d) for d in info.input_shape)
        text = (f"{train + val + test:,} samples of shape {shape} → {info.target_text}. "
                f"Training {train:,} · validation {val:,}")
        text += f" · test {test:,}." if test else "."
        if self.normalization:
            text += f" Inputs {self.normalization}."
        if self.target_range is not None:
            low, mean, high = self.target_range
            text += f" Target from {low:.3g} to {high:.3g} (mean {mean:.3g})."
        return text

    def imbalance_warning(self) -> str:
        """Plain words when one class dominates the training split (accuracy misleads then)."""
        counts = self.class_counts[0]
        if not counts or min(counts) == 0:
            return ("Some classes have no training samples." if counts and min(counts) == 0
                    else "")
        ratio = max(counts) / min(counts)
        if ratio < 3:
            return ""
        names = self.info.class_names or tuple(str(i) for i in range(len(counts)))
        big, small = counts.index(max(counts)), counts.index(min(counts))
        return (f"Imbalanced classes: '{names[big]}' has {ratio:.0f}x as many training samples "
                f"as '{names[small]}'. Accuracy alone can mislead; look at per-class results.")
