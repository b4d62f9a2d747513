"""Start TensorFlow: import it and probe the devices (CUDA's cuInit on a GPU build)."""

from __future__ import annotations

import tensorflow as tf


def start_tensorflow() -> str:
    """Import TensorFlow and list its devices (without initialising them); returns its version.

    The command line calls this with native stderr silenced, so the start-up messages that
    TensorFlow's C++ side prints directly (below Python's sys.stderr) stay out of the output.
    """
    tf.config.list_physical_devices()
    return str(tf.__version__)


def enable_determinism() -> None:
    """Make every TensorFlow op deterministic for the rest of this process.

    Same seed, same data and same settings then give the same weights, bit for bit, at some
    cost in speed. TensorFlow offers no way to switch it off again.
    """
    tf.config.experimental.enable_op_determinism()
