"""Plans and applies the CPU threads per operation of a training (``studio.core.cpu_threads``).

The plan is made from the model's summary, which does not start TensorFlow's runtime, so a
process can plan and then apply it before its first operation; and the window plans for the
training process it keeps in reserve.
"""

from __future__ import annotations

import contextlib
import os

import tensorflow as tf

from studio.core.cpu_threads import threads_per_operation
from studio.core.project import Project
from studio.ml.summary import summarize


def plan_threads(project: Project) -> int | None:
    """1 for a small model trained on the CPU, None for TensorFlow's default (a GPU is
    present: the CPU only feeds it)."""
    if tf.config.list_physical_devices("GPU"):  # lists without initialising
        return None
    try:
        summary = summarize(project.model, project.dataset.info)
    except Exception:  # an invalid model is refused later, with its own message
        return None
    return threads_per_operation(summary, project.training.batch_size, os.cpu_count() or 1)


def apply_threads(threads: int | None) -> None:
    """Set the threads per operation (None: leave TensorFlow's default). Where the runtime
    has started they stay as they were (the log line says what they are)."""
    if threads is not None:
        with contextlib.suppress(RuntimeError):
            tf.config.threading.set_intra_op_parallelism_threads(threads)
