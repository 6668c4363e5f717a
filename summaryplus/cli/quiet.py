"""Keeps what torch, transformers and huggingface_hub print out of the command's stderr.

Building a model from a config makes transformers log (``[transformers] Model
config: ...``) and torch warn; a user who asked for a table, or who gets our
one-line error, should not read that. While the command runs, ``sys.stderr`` is a
filter (``_LibraryFilter``) that drops what those libraries write (their log
handlers included) and passes the rest through: a factory's own prints and its
logging show as they happen. Warnings are recorded; afterwards the ones raised
outside those libraries (the user's own code, summaryplus's advice) are shown
as usual and the rest is dropped. ``--debug`` runs without this, so everything
shows as it happens.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

# Top-level packages whose logging and warnings the command hides.
LIBRARIES = ("torch", "transformers", "huggingface_hub", "tokenizers", "safetensors",
             "accelerate", "numpy", "tqdm")


class _LibraryFilter(io.TextIOBase):
    """``sys.stderr`` while the command runs: a write made from a library's code
    (directly, or through a log handler or ``print``) is dropped, any other goes
    to ``stderr``. The writer is the first frame up the stack outside the
    standard library's logging and I/O plumbing and this module."""

    def __init__(self, stderr: TextIO) -> None:
        self.stderr = stderr

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        # A progress bar asks whether stderr is a terminal: the real one's answer.
        return bool(self.stderr.isatty())

    def write(self, text: str) -> int:
        if not _written_by_a_library():
            self.stderr.write(text)
        return len(text)

    def flush(self) -> None:
        self.stderr.flush()


# Files whose frames write on someone else's behalf.
_PLUMBING = (os.path.dirname(os.path.abspath(logging.__file__)) + os.sep,
             os.path.abspath(__file__))


def _written_by_a_library() -> bool:
    folders = _library_folders()
    frame = sys._getframe(2)
    while frame is not None:
        name = os.path.abspath(frame.f_code.co_filename)
        if not name.startswith(_PLUMBING):
            return name.startswith(folders)
        frame = frame.f_back  # type: ignore[assignment]
    return False


@contextmanager
def library_output_hidden() -> Iterator[None]:
    """Runs the block with library output captured and dropped (see the module doc)."""
    real_stderr = sys.stderr
    filtered = _LibraryFilter(real_stderr)
    caught: list[warnings.WarningMessage] = []
    try:
        # record=True keeps the filters in force (what the user ignores stays ignored).
        with warnings.catch_warnings(record=True) as recorded:
            moved: list[logging.StreamHandler[TextIO]] = []
            try:
                sys.stderr = filtered
                # Handlers set up before the run (torch's, at import) hold the
                # real stderr: the libraries' own ones write nowhere meanwhile.
                moved = _rebind_handlers(real_stderr, io.StringIO(), libraries_only=True)
                yield
            finally:
                sys.stderr = real_stderr
                _rebind_handlers(filtered, real_stderr)
                for handler in moved:
                    handler.setStream(real_stderr)
                caught.extend(recorded)
    finally:
        # Also when the run failed: the user's own warnings come before the error line.
        folders = _library_folders()
        for record in caught:
            if not os.path.abspath(record.filename).startswith(folders):
                real_stderr.write(warnings.formatwarning(
                    record.message, record.category, record.filename, record.lineno,
                    record.line,
                ))


def _library_folders() -> tuple[str, ...]:
    folders = []
    for name in LIBRARIES:
        module = sys.modules.get(name)
        where = getattr(module, "__file__", None)
        if where:
            folders.append(os.path.dirname(os.path.abspath(where)) + os.sep)
    return tuple(folders)


def _rebind_handlers(
    old: object, new: Any, libraries_only: bool = False
) -> list[logging.StreamHandler[TextIO]]:
    """Points every log handler writing to ``old`` at ``new``; returns them.

    After the run: code that set up a handler during the run bound it to the
    filter (``logging.StreamHandler()`` takes ``sys.stderr`` once); it goes
    back to the real stderr so that later records in this process are not
    lost. ``libraries_only``: only the handlers of the ``LIBRARIES``' loggers
    (the root logger and the user's own stay as they are)."""
    loggers = [logging.getLogger(), *(
        value for name, value in logging.Logger.manager.loggerDict.items()
        if isinstance(value, logging.Logger)
        and (not libraries_only or name.split(".")[0] in LIBRARIES)
    )]
    if libraries_only:
        loggers = loggers[1:]
    moved = []
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is old:
                handler.setStream(new)
                moved.append(handler)
    return moved


__all__ = ["LIBRARIES", "library_output_hidden"]
