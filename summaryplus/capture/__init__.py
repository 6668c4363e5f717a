"""Capture: run the model once and record what happened, leaving it untouched.

``forward.capture_forward`` is the only place that runs user code; ``state``
snapshots and puts back everything the forward may change (train/eval flags,
buffers, parameters written in place, module attributes, the RNG, grad mode,
hooks), also when it raises or is interrupted. ``static`` makes rows without a
forward. The other modules are the pieces they use: the recorder and its op
counter, the ``forward`` wrappers, the registration tree, value walking,
fallbacks for ops without data, assumed routing, the forward cache.

Import the modules themselves (``capture.forward``, ``capture.recorder``...): this
package imports none of them, so that reading the module tree or walking values
(low layers) does not load the capture engine.
"""
