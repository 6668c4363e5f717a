"""What the op counter does with ops it cannot simply run and count.

Two cases, both scoped to the summary's own dispatch mode (nothing is
registered with torch, so the rest of the process is unaffected):

- **Composite ops arriving whole.** Under ``torch.inference_mode()`` autograd is
  skipped, so composite ops (``scaled_dot_product_attention``, ``conv2d``,
  ``einsum``, ``matmul``...) reach the counter before they decompose. An op
  without a formula that has a composite kernel is run through that kernel with
  the counter active, so the ops it decomposes into are counted as usual.
- **Shape-only stand-ins on meta and fake tensors.** Some of torch's meta
  kernels are stricter than the real ones (``_grouped_mm``'s accepts bf16 only,
  although the CPU and CUDA kernels take fp32 and fp16). On tensors without
  data, such an op's output is built from the shapes alone; its MACs depend on
  shapes only, so the count is exact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

ShapeFallback = Callable[[tuple[Any, ...], dict[str, Any]], torch.Tensor]


def _argument(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


def _grouped_mm_output(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor:
    """The output of ``_grouped_mm(a, b, offs, bias, out_dtype)`` (see
    ``formulas.grouped`` for the four layouts)."""
    a, b = args[0], args[1]
    offs = _argument(args, kwargs, 2, "offs")
    out_dtype = _argument(args, kwargs, 4, "out_dtype") or a.dtype
    if a.dim() == 2 and b.dim() == 3:
        shape: tuple[int, ...] = (a.shape[0], b.shape[-1])
    elif a.dim() == 3 and b.dim() == 2:
        shape = (a.shape[1], b.shape[-1])
    elif a.dim() == 2 and b.dim() == 2:
        if offs is None:
            raise ValueError("_grouped_mm of two 2-d operands needs offs")
        shape = (offs.shape[0], a.shape[0], b.shape[-1])
    else:
        shape = (a.shape[0], a.shape[1], b.shape[-1])
    return torch.empty(shape, dtype=out_dtype, device=a.device)


def _scaled_grouped_mm_output(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor:
    # (a, b, scale_a, scale_b, offs, bias, scale_result, out_dtype): fp8 in, bf16 out
    # unless asked otherwise.
    offs = _argument(args, kwargs, 4, "offs")
    out_dtype = _argument(args, kwargs, 7, "out_dtype") or torch.bfloat16
    return _grouped_mm_output((args[0], args[1], offs, None, out_dtype), {})


def _fallbacks() -> dict[Any, ShapeFallback]:
    ops: dict[Any, ShapeFallback] = {}
    grouped = getattr(torch.ops.aten, "_grouped_mm", None)
    if grouped is not None:
        ops[grouped.default] = _grouped_mm_output
    scaled = getattr(torch.ops.aten, "_scaled_grouped_mm", None)
    if scaled is not None:
        ops[scaled.default] = _scaled_grouped_mm_output
    return ops


_SHAPE_FALLBACKS = _fallbacks()


def _has_no_data(args: tuple[Any, ...]) -> bool:
    from torch._subclasses.fake_tensor import FakeTensor

    # Any operand without data makes the output one without data (in a fake run a
    # real parameter can meet fake activations: the fake mode converts it).
    return any(
        isinstance(arg, torch.Tensor) and (arg.is_meta or isinstance(arg, FakeTensor))
        for arg in args
    )


def runner(func: Any, run: Callable[..., Any]) -> Callable[..., Any]:
    """``run`` (the op's callable), or for an op whose meta kernel is stricter than
    its real ones, a callable that builds the output from shapes when the tensors
    have no data (the meta kernel is not tried: it would fail and log)."""
    fallback = _SHAPE_FALLBACKS.get(func)
    if fallback is None:
        return run

    def run_or_build(*args: Any, **kwargs: Any) -> Any:
        if _has_no_data(args):
            return fallback(args, kwargs)
        return run(*args, **kwargs)

    return run_or_build


def has_composite_kernel(func: Any) -> bool:
    """True when ``func`` decomposes into other ATen ops (CompositeImplicitAutograd)."""
    has_kernel = getattr(func, "has_kernel_for_dispatch_key", None)
    if has_kernel is None:
        return False
    try:
        return bool(has_kernel(torch._C.DispatchKey.CompositeImplicitAutograd))
    except RuntimeError:  # an overload known to Python only (aten::einsum.sublist)
        return False


def group_sizes(
    func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[int, ...] | None:
    """How many rows a grouped GEMM gave each group (each expert's tokens), from
    its ``offs`` (cumulative ends) when they hold values; None otherwise."""
    scaled = func.overloadpacket is not torch.ops.aten._grouped_mm
    offs = _argument(args, kwargs, 4 if scaled else 2, "offs")
    if not isinstance(offs, torch.Tensor) or _has_no_data((offs,)):
        return None
    ends = [int(end) for end in offs.tolist()]
    return tuple(end - start for start, end in zip([0, *ends[:-1]], ends, strict=True))
