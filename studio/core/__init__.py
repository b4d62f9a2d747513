"""Pure-Python domain model: no Qt, no TensorFlow, no numpy.

Everything here runs (and is tested) without a display or an ML runtime, so the project file,
the layer catalog and the training settings can be read and validated anywhere.
"""
