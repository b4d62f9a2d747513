"""Errors whose message is written for the person using the studio, not for a developer."""


class StudioError(Exception):
    """A problem the user can fix; ``str(error)`` is a complete, one-line explanation."""


class ProjectError(StudioError):
    """A project file is missing, unreadable, or describes something invalid."""


class ModelSpecError(StudioError):
    """A layer stack or one of its parameters is invalid.

    ``layer_index`` and ``param`` say where, so views can mark the offending place.
    """

    def __init__(self, message: str, *, layer_index: int | None = None, param: str | None = None):
        super().__init__(message)
        self.layer_index = layer_index
        self.param = param


class DatasetError(StudioError):
    """A dataset cannot be found, read or used with this model."""


class ExportError(StudioError):
    """A model could not be written or read back."""


class OutOfMemory(StudioError):
    """The accelerator ran out of memory; a smaller batch (``batch_size`` // 2) may fit."""

    def __init__(self, message: str, *, batch_size: int) -> None:
        super().__init__(message)
        self.batch_size = batch_size


class WorkerLost(StudioError):
    """Another worker of a multi-worker run stopped answering (it died, or the network
    between them failed)."""


class ProjectMismatch(StudioError):
    """The workers of a multi-worker run were started with different projects or options."""
