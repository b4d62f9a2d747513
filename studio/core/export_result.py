"""What an export wrote, and the proof that it works: the file read back in its own runtime.

A float export must predict what the model in memory predicts (to rounding); a quantised one
may not, so for it the numbers are reported rather than enforced, with the accuracy change
on labelled samples, which is what a person deciding whether to ship it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Float exports differ from the model by rounding only; beyond this (scaled by the size of
#: the outputs) something in the conversion is wrong.
FLOAT_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Verification:
    #: Where the file was loaded back: "Keras (safe_mode)", "onnxruntime", ...
    runtime: str
    samples: int = 0
    max_abs_diff: float | None = None
    #: Fraction of samples whose predicted class is the same (classification only).
    class_agreement: float | None = None
    #: Accuracy of the exported file and of the model in memory, when labels were given.
    accuracy: float | None = None
    reference_accuracy: float | None = None
    #: The largest difference accepted: None when none is enforced (quantised exports).
    tolerance: float | None = None
    #: What was checked, for exports that make no predictions (a CSV) or more than one thing.
    detail: str = ""

    @property
    def accuracy_change(self) -> float | None:
        if self.accuracy is None or self.reference_accuracy is None:
            return None
        return self.accuracy - self.reference_accuracy

    @property
    def passed(self) -> bool:
        return (self.tolerance is None or self.max_abs_diff is None
                or self.max_abs_diff <= self.tolerance)

    def line(self) -> str:
        """One line for a terminal or a status bar (accuracy only where it may change)."""
        facts = []
        if self.max_abs_diff is not None:
            facts.append(f"max abs difference {self.max_abs_diff:.2g} on {self.samples} "
                         "samples")
        if self.class_agreement is not None:
            facts.append(f"predicted classes agree on {self.class_agreement:.1%}")
        change = self.accuracy_change
        if change is not None and self.accuracy is not None and self.tolerance is None:
            facts.append(f"accuracy {self.accuracy:.4f} (model {self.reference_accuracy:.4f}, "
                         f"change {change:+.4f})")
        if self.detail:
            facts.append(self.detail)
        return f"verified in {self.runtime}" + (": " + ", ".join(facts) if facts else "")


@dataclass(frozen=True)
class ExportResult:
    format: str
    path: Path
    #: Everything written, ``path`` first (a script's data file comes second).
    files: tuple[Path, ...]
    verification: Verification
    #: Bytes written, all files together (a SavedModel's whole folder).
    size: int = 0
