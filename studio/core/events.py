"""Plain-Python events that the training loop sends to whoever watches it.

They cross from the training thread to the UI (through ``studio.workers``) or to a terminal
(``studio train``), so they are small immutable records with no TensorFlow objects inside.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TrainingStarted:
    epochs: int
    steps_per_epoch: int
    train_samples: int
    validation_samples: int
    initial_epoch: int = 0
    metric: str = "accuracy"  # the metric plotted beside the loss ("mae" for regression)
    #: Where it trains, in words ("Training on GPU 0, mixed precision ..."); "" if not said.
    device: str = ""
    #: What the device choice could not honour on this machine, in words.
    device_notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchEnded:
    """Sent a few times a second, not for every batch; each carries every batch since the
    previous one (``earlier``), so the per-batch curve is whole."""

    epoch: int  # 0-based
    step: int  # 1-based: batches finished in this epoch
    steps_per_epoch: int
    samples_per_second: float
    logs: Mapping[str, float]
    #: The batches of this epoch that finished after the previous BatchEnded and before this
    #: one, as (step, logs). Sending each batch woke the window every 40 ms, which cost the
    #: training 3-4 % of its speed on two cores.
    earlier: tuple[tuple[int, Mapping[str, float]], ...] = ()


@dataclass(frozen=True)
class EpochEnded:
    epoch: int  # 0-based
    epochs: int
    seconds: float
    logs: Mapping[str, float]
    #: An epoch of an interrupted run, sent again when it resumes (so curves are whole).
    replayed: bool = False


@dataclass(frozen=True)
class SettingsChanged:
    """The user changed a setting while paused; ``x`` is where (in epochs) to mark it."""

    x: float
    text: str
    epochs: int


@dataclass(frozen=True)
class TrainingEnded:
    epochs_completed: int
    stopped_early: bool
    #: Why training ended before its last epoch, in words ("" when it ran to the end).
    reason: str = ""
    #: Loss and metrics on the test split, when there is one (evaluated once, at the end).
    test_logs: Mapping[str, float] = field(default_factory=dict)


TrainingEvent = TrainingStarted | BatchEnded | EpochEnded | SettingsChanged | TrainingEnded
EventSink = Callable[[TrainingEvent], None]
