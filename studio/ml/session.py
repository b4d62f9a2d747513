"""Train a whole project: load its data, build its model, run the engine.

This is the single entry point used by the training worker and by ``studio train``, so the
window and the command line can never drift apart.
"""

from __future__ import annotations

from studio.core.control import TrainingControl
from studio.core.events import EventSink
from studio.core.project import Project
from studio.ml.datasets import load_dataset
from studio.ml.summary import build_model
from studio.ml.training import TrainingResult, run_training


def train_project(project: Project, sink: EventSink, control: TrainingControl | None = None
                  ) -> TrainingResult:
    """Blocking; raises StudioError subclasses for problems the user can fix."""
    data = load_dataset(project.dataset)
    model = build_model(project.model, data.info, name=_model_name(project.name),
                        seed=project.dataset.seed)
    return run_training(model, data, project.training, sink, control or TrainingControl(),
                        seed=project.dataset.seed)


def _model_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")
    return cleaned or "studio_model"
