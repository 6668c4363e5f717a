"""Exceptions raised by summaryplus."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model_statistics import ModelStatistics


class SummaryError(RuntimeError):
    """The model's forward pass failed while it was being summarized.

    Subclasses ``RuntimeError`` so that code written for torchinfo
    (``except RuntimeError``) keeps working.

    Attributes:
        module_path: dotted path of the innermost module that was running
            (``""`` for the model itself).
        module_class: class name of that module.
        input_shapes: text description of the inputs that module received.
        partial: statistics of the layers that ran before the failure.
    """

    def __init__(
        self,
        message: str,
        *,
        module_path: str,
        module_class: str,
        input_shapes: str,
        partial: ModelStatistics | None,
    ) -> None:
        super().__init__(message)
        self.module_path = module_path
        self.module_class = module_class
        self.input_shapes = input_shapes
        self.partial = partial


class InputConflictError(ValueError, RuntimeError):
    """Both ``input_size`` and ``input_data`` were given.

    A ``ValueError`` like every other bad argument, and a ``RuntimeError``
    because torchinfo raises one here: code written for either keeps working.
    """


class DeviceError(ValueError, RuntimeError):
    """``device`` is not a torch device (``"lol"``), checked whether or not a
    forward runs. A ``ValueError`` like every other bad argument, and a
    ``RuntimeError`` because torch (and so torchinfo) raises one here."""


class ExportedArchiveError(ValueError):
    """A ``torch.export`` archive (``.pt2``) could not be summarized: not a zip,
    an archive version or graph schema summaryplus does not read, or a graph
    entry it does not understand. The message is one line naming the file."""


def read_only_message(what: str, name: str, deleting: bool = False) -> str:
    """Why a built summary's row or record cannot change (``what``: "summary
    rows are read-only once the summary is built"): one wording for live rows
    (``BuiltLayerInfo``) and loaded summaries (``records``)."""
    action = "delete" if deleting else "set"
    return f"{what} ({action} {name!r}): copy the numbers out, or make a new summary"


class CheckpointError(ValueError):
    """A checkpoint could not be read: truncated, corrupt, or not what its name says."""


class UnsafeCheckpointError(CheckpointError):
    """``torch.load(weights_only=True)`` refused the file: its pickle would run code."""


class InputsError(ValueError):
    """The inputs of a model cannot be worked out from it; the message says which
    one and how to give it (``--input NAME=SHAPE``)."""
