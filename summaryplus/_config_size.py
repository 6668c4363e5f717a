"""How large the model a ``config.json`` describes would be, told before it is built.

Building a transformers model takes time per module even on the meta device
(about a millisecond per layer; a config of ``num_hidden_layers: 10**6`` would
build for many minutes and hold gigabytes of module objects). The command
refuses a config over a stated size before building it; ``--max-layers``
raises the limit.
"""

from __future__ import annotations

import re
from typing import Any

#: Layers a config may declare before the command refuses it (the largest
#: published models have under 200).
DEFAULT_MAX_LAYERS = 1024
#: Layers times experts per layer, as a multiple of the layer limit (DeepSeek-V3:
#: 61 x 256 = 15,616 expert blocks, under 64 x 1024).
EXPERT_FACTOR = 64

_LAYERS = re.compile(r"^(num_|n_)?([a-z]+_)*(layers?|depth)$")
_EXPERTS = re.compile(r"^(num_|n_)?([a-z]+_)*experts$")


def oversized(data: Any, max_layers: int) -> str | None:
    """Why the model of config ``data`` is too large to build, or None.

    Every (sub-)config is looked at (``text_config``, ``vision_config``...): a
    layer count (``num_hidden_layers``, ``n_layer``, ``encoder_layers``,
    ``depth``...) over ``max_layers``, or layers x experts (``num_experts``,
    ``num_local_experts``, ``n_routed_experts``...) over ``EXPERT_FACTOR`` x
    ``max_layers``.

    Example:
        >>> oversized({"model_type": "llama", "num_hidden_layers": 32}, 1024) is None
        True
        >>> oversized({"num_hidden_layers": 10**6}, 1024)
        'num_hidden_layers is 1,000,000, over the 1,024 layers built without --max-layers'
    """
    stack = [("", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, list):
            stack.extend((where, item) for item in value)
            continue
        if not isinstance(value, dict):
            continue
        layers = experts = 0
        layer_key = ""
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                stack.append((f"{where}{key}.", item))
            if not isinstance(item, int) or isinstance(item, bool):
                continue
            if _LAYERS.match(str(key)) and item > layers:
                layers, layer_key = item, f"{where}{key}"
            elif _EXPERTS.match(str(key)):
                experts = max(experts, item)
        if layers > max_layers:
            return (
                f"{layer_key} is {layers:,}, over the {max_layers:,} layers built "
                "without --max-layers"
            )
        if layers * max(experts, 1) > EXPERT_FACTOR * max_layers:
            return (
                f"{layer_key} {layers:,} x {experts:,} experts is over the "
                f"{EXPERT_FACTOR * max_layers:,} expert blocks built without --max-layers "
                f"(the limit is {EXPERT_FACTOR} x --max-layers)"
            )
    return None
