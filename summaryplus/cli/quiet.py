"""Keeps what torch, transformers and huggingface_hub print out of the command's stderr.

Building a model from a config makes transformers log (``[transformers] Model
config: ...``) and torch warn; a user who asked for a table, or who gets our
one-line error, should not read that. While the command runs, ``sys.stderr`` is a
buffer and warnings are recorded; afterwards the warnings raised outside those
libraries (the user's own code, summaryplus's advice) are shown as usual and the
rest is dropped. ``--debug`` runs without this, so everything shows as it happens.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

# Top-level packages whose logging and warnings the command hides.
LIBRARIES = ("torch", "transformers", "huggingface_hub", "tokenizers", "safetensors",
             "accelerate", "numpy")


@contextmanager
def library_output_hidden() -> Iterator[None]:
    """Runs the block with library output captured and dropped (see the module doc)."""
    real_stderr = sys.stderr
    buffer = io.StringIO()
    caught: list[warnings.WarningMessage] = []
    try:
        # record=True keeps the filters in force (what the user ignores stays ignored).
        with warnings.catch_warnings(record=True) as recorded:
            moved: list[logging.StreamHandler[TextIO]] = []
            try:
                sys.stderr = buffer
                # Handlers set up before the run (torch's, at import) hold the
                # real stderr: the libraries' own ones write to the buffer meanwhile.
                moved = _rebind_handlers(real_stderr, buffer, libraries_only=True)
                yield
            finally:
                sys.stderr = real_stderr
                _rebind_handlers(buffer, real_stderr)
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
    old: TextIO, new: TextIO, libraries_only: bool = False
) -> list[logging.StreamHandler[TextIO]]:
    """Points every log handler writing to ``old`` at ``new``; returns them.

    After the run: a library that set up its handler during the run bound it to
    the buffer (``logging.StreamHandler()`` takes ``sys.stderr`` once); it goes
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
