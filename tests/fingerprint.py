"""Everything a summary must leave as it was, captured and compared."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.parameter import is_lazy


def fingerprint(model: nn.Module) -> dict[str, Any]:
    """Parameter and buffer bytes (and objects), flags, grads, devices, dtypes,
    hooks of every module, the global RNG states, grad mode and default dtype."""
    state = model.state_dict(keep_vars=True)
    modules = list(model.modules())
    return {
        "state": {
            k: v.detach().clone()
            for k, v in state.items()
            if isinstance(v, torch.Tensor) and not is_lazy(v)
        },
        "objects": {
            k: id(v)
            for k, v in [
                *model.named_parameters(remove_duplicate=False),
                *model.named_buffers(remove_duplicate=False),
            ]
        },
        "dtypes": {
            k: type(v) if is_lazy(v) else v.dtype
            for k, v in state.items()
            if isinstance(v, torch.Tensor)
        },
        "devices": {k: str(v.device) for k, v in state.items() if isinstance(v, torch.Tensor)},
        "training": [m.training for m in modules],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grads": [p.grad for p in model.parameters()],
        "hooks": [
            (
                len(m._forward_hooks),
                len(m._forward_pre_hooks),
                len(m._backward_hooks),
                len(getattr(m, "_backward_pre_hooks", {})),
            )
            for m in modules
        ],
        # Instance attributes (a forward set on the instance, e.g. by accelerate).
        "attributes": [_attributes(m) for m in modules],
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "grad_mode": torch.is_grad_enabled(),
        "default_dtype": torch.get_default_dtype(),
    }


def _attributes(module: nn.Module) -> dict[str, Any]:
    """The instance's own attributes: objects by identity, tensors by value (a
    pruned weight is recomputed by every forward)."""
    return {
        name: (value.detach().clone(), None) if isinstance(value, torch.Tensor) else id(value)
        for name, value in vars(module).items()
    }


def assert_same(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert before.keys() == after.keys()
    assert before["state"].keys() == after["state"].keys()
    for key, value in before["state"].items():
        other = after["state"][key]
        if value.is_quantized:
            value, other = value.dequantize(), other.dequantize()
        assert torch.equal(value, other), key
    for old, new in zip(before["attributes"], after["attributes"], strict=True):
        assert old.keys() == new.keys(), "attributes"
        for name, value in old.items():
            if isinstance(value, tuple):
                assert torch.equal(value[0], new[name][0]), name
            else:
                assert value == new[name], name
    for key in ("objects", "dtypes", "devices", "training", "requires_grad", "grads",
                "hooks", "grad_mode", "default_dtype"):
        assert before[key] == after[key], key
    assert torch.equal(before["rng"], after["rng"])
    assert all(torch.equal(a, b) for a, b in zip(before["cuda_rng"], after["cuda_rng"],
                                                 strict=True))
