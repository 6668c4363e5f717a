"""Attention on meta tensors as the CPU runs it.

``F.scaled_dot_product_attention`` picks its kernel by device: on the CPU it
runs the fused flash kernel (``_scaled_dot_product_flash_attention_for_cpu``)
whenever that kernel takes the arguments, on meta tensors always torch's math
decomposition. The two do the same MACs but not the same memory: the math path
saves the ``[batch, heads, T, T]`` probabilities for backward, the fused kernel
only its output and log-sum-exp. So a model built on meta (``mode="train"``)
reported quadratic activations where the same model on the CPU, or on fake
tensors, reports linear ones. This mode makes meta tensors take the CPU's
choice, asked of CPU stand-ins that hold one row of memory each.

Scoped to the summary's forward on plain meta tensors (nothing is registered
with torch); a ``TorchFunctionMode``, since the decomposition happens before
any dispatch mode sees the call.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

# torch.nn.attention.SDPBackend.FLASH_ATTENTION, as _fused_sdp_choice returns it.
_FLASH = 1


class CpuAttentionOnMeta(TorchFunctionMode):
    """Runs ``scaled_dot_product_attention`` on meta tensors with the kernel the
    CPU would choose for the same shapes, dtypes and options."""

    def __torch_function__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        kwargs = kwargs or {}
        if func is F.scaled_dot_product_attention:
            out = _as_on_cpu(*args, **kwargs)
            if out is not None:
                return out
        return func(*args, **kwargs)


def _stand_in(tensor: torch.Tensor) -> torch.Tensor:
    """A CPU tensor of ``tensor``'s shape and dtype holding one last-dim row (the
    other strides 0): what the kernel choice reads, without the memory."""
    strides = (0,) * (tensor.dim() - 1) + (1,)
    return torch.empty_strided(tuple(tensor.shape), strides, dtype=tensor.dtype)


def _as_on_cpu(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> torch.Tensor | None:
    """The fused CPU kernel's output on meta tensors, or None where the CPU would
    take the math path too (or the arguments are not plain meta tensors)."""
    tensors = (query, key, value) if attn_mask is None else (query, key, value, attn_mask)
    if not all(type(t) is torch.Tensor and t.device.type == "meta" for t in tensors):
        return None
    mask = None if attn_mask is None else _stand_in(attn_mask)
    choice = torch._fused_sdp_choice(
        _stand_in(query), _stand_in(key), _stand_in(value), mask, dropout_p, is_causal,
        scale=scale, enable_gqa=enable_gqa,
    )
    if choice != _FLASH:
        return None
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        # As the CPU path does: a boolean mask becomes 0 / -inf in the query's dtype.
        keep = torch.zeros((), dtype=query.dtype, device=query.device)
        drop = torch.full((), float("-inf"), dtype=query.dtype, device=query.device)
        attn_mask = torch.where(attn_mask, keep, drop)
    out: torch.Tensor = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(
        query, key, value, dropout_p, is_causal, attn_mask=attn_mask, scale=scale
    )[0]
    return out
