"""The ``summaryplus`` command (argparse, thin over the library).

Forms (``summaryplus --help`` has examples):

- ``summaryplus demo``: the built-in examples.
- ``summaryplus MODULE_OR_FILE:CALLABLE``: import a factory, call it, summarize the
  module it returns with ``summary()``.
- ``summaryplus CHECKPOINT``: ``.safetensors`` (header only), torch files
  (``weights_only=True, mmap=True``), sharded ``*.index.json`` or a folder.
- ``summaryplus CONFIG.json``: a transformers model built from its config on the
  meta device and summarized at ``--seq-len``/``--input-size``.

Every failure is one line on stderr and a non-zero exit status: 2 for what was
typed (a bad option, a missing file, an unknown extension), 1 for a target that
could not be read, built or run. ``--debug`` adds the traceback.

The package: ``parser`` (the options, help text and defaults), ``frontend``
(``main``: validation, what TARGET names, one-line failures) and ``targets``
(demo, factory, checkpoint, config: each runs the library and writes the output).
"""

from __future__ import annotations

from .frontend import main
from .parser import build_parser

__all__ = ["build_parser", "main"]
