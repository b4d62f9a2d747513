"""Qt views and dialogs. Never imports TensorFlow: heavy work goes through ``studio.workers``."""
