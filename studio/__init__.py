"""Training Studio: train neural networks without writing code.

This module holds only the version so that ``import studio`` stays instant and imports
neither Qt nor TensorFlow.
"""

__version__ = "0.1.0"
