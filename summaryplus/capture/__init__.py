"""Capture: run the model once and record what happened, leaving it untouched.

``forward.capture_forward`` is the only place that runs user code; ``state``
snapshots and puts back everything the forward may change (train/eval flags,
buffers, parameters written in place, module attributes, the RNG, grad mode,
hooks), also when it raises or is interrupted. ``static`` makes rows without a
forward. The other modules are the pieces they use: the recorder and its op
counter, the ``forward`` wrappers, the registration tree, value walking,
fallbacks for ops without data, assumed routing, the forward cache.
"""

from __future__ import annotations

from .forward import CaptureResult, ForwardFailed, capture_forward
from .static import static_rows
from .tree import ModuleTree

__all__ = ["CaptureResult", "ForwardFailed", "ModuleTree", "capture_forward", "static_rows"]
