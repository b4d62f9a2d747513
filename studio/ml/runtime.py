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
