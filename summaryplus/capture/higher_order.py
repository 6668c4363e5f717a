"""Higher-order operators under the op counter: ``torch.cond``, ``while_loop``,
``scan``, ``map``, ``associative_scan``, ``flex_attention``, ``invoke_subgraph``,
exported graphs' ``wrap_with_*`` and functionalized calls, user Triton kernels...

A higher-order operator (HOP) takes functions (subgraphs) as arguments. It
reaches the counter's ``__torch_dispatch__`` whole, with the counter popped, and
``dispatch`` runs it by the rule its name has in ``RULES``:

- ``subgraphs``: its functions run with the counter active again (and autograd
  recording, when torch's own autograd rule sent the call below autograd), so
  every op inside is counted on the running row, as eager code would be:
  ``cond`` runs the branch taken (on tensors without data, where the branch is
  unknown, both are measured and the larger kept, said by an ``Assumed:``
  line); loops run their real trip count (``scan``, ``map``: the length of the
  scanned dimension, known from shapes; ``while_loop`` on tensors without data:
  the body once, said).
- ``formula``: ``flex_attention`` and its backward are counted by their formula
  (``formulas.attention``), the blocks a block mask computes only.
- ``no_macs``: the HOP does no multiply-accumulates (printing, tracepoints).
- ``opaque``: compiled or foreign code the counter cannot see into (a user
  Triton kernel, an AOTInductor or ExecuTorch delegate, a TorchScript object's
  method): run as is and reported as uncounted, so the total says partial.

A HOP this torch has but ``RULES`` does not name (a newer torch, a user's own)
runs as ``opaque``: the summary says what it could not count and never fails.
``tests/test_higher_order.py`` walks torch's registry of HOPs and requires a rule
here or a reviewed reason there for each.

The counter calls ``dispatch`` for HOPs only when autograd did not take the
call first: torch's autograd rules for ``cond``, ``while_loop``, ``scan`` and
``map`` trace their subgraphs with ``make_fx``, which fails on functions that
close over real parameters (a failure of torch under any dispatch mode, its own
``FlopCounterMode`` included); and ``flex_attention`` compiles its HOP with
``fullgraph=True``, which raises when a dispatch mode made dynamo skip the
frame. ``eager_hops`` sends every HOP call below autograd (``BelowAutograd``,
where ``dispatch`` runs it with autograd recording) and has ``torch.compile``
run eagerly; the capture enters it only when a forward has failed that way (a
function mode costs on every torch call).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch
from torch._C import DispatchKey
from torch._ops import HigherOrderOperator
from torch.utils import _pytree as pytree

from ..formulas.attention import flex_attention_backward_macs, flex_attention_macs
from .branches import larger_of

if TYPE_CHECKING:
    from torch.utils._python_dispatch import TorchDispatchMode

    from .recorder import Recorder

HopRule = Callable[["TorchDispatchMode", "Recorder", HigherOrderOperator, tuple[Any, ...],
                    dict[str, Any]], Any]

BRANCH_ASSUMPTION = (
    "torch.cond on tensors without data: the branch with more MACs is counted "
    "(which one runs depends on the values)"
)
LOOP_ASSUMPTION = (
    "while_loop on tensors without data: its body is counted once per call "
    "(the trip count depends on the values)"
)
BLOCK_MASK_ASSUMPTION = (
    "flex_attention's block mask on tensors without data: every block is counted "
    "as computed (which blocks are skipped depends on the values)"
)


# ----------------------------------------------------------------- helpers
def hop_name(func: HigherOrderOperator) -> str:
    """``cond``, ``flex_attention``...: the name torch registered the HOP under."""
    return str(func._name)


def _without_data(value: Any) -> bool:
    """Any tensor in ``value`` is fake or meta (its values are unknown)."""
    from torch._subclasses.fake_tensor import FakeTensor

    return any(
        isinstance(leaf, FakeTensor) or (isinstance(leaf, torch.Tensor) and leaf.is_meta)
        for leaf in pytree.tree_leaves(value)
    )


def _known_bool(value: Any) -> bool | None:
    """The truth of a predicate, or None where its value is unknown (a fake or
    meta tensor, a symbolic boolean without a hint)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, torch.Tensor):
        return None if _without_data(value) else bool(value)
    try:
        return bool(value)  # SymBool with a hint
    except Exception:  # a data-dependent symbol: unknown
        return None


@contextmanager
def _counted(mode: TorchDispatchMode) -> Iterator[None]:
    """Runs a HOP's subgraph with the counter active again and autograd as the
    forward had it: a HOP whose autograd rule found nothing requiring grad
    runs below autograd, which would leave parameters the subgraph closes over
    without gradients (and their activations unsaved)."""
    include = torch._C._dispatch_tls_local_include_set()
    exclude = torch._C._dispatch_tls_local_exclude_set()
    entry = getattr(mode, "entry_exclude", None)
    if entry is not None and not torch.is_inference_mode_enabled():
        # Keys excluded since the forward began (bitwise: exclude & entry).
        exclude = exclude - (exclude - entry)
    with torch._C._ForceDispatchKeyGuard(include, exclude), mode:
        yield


def _dense_kernel(func: HigherOrderOperator, args: Any) -> Callable[..., Any] | None:
    """The HOP's eager kernel: device-generic, else the one for its tensors' device."""
    kernels = func.py_kernels
    kernel = kernels.get(DispatchKey.CompositeExplicitAutograd)
    if kernel is None:
        devices = {leaf.device.type for leaf in pytree.tree_leaves(args)
                   if isinstance(leaf, torch.Tensor)}
        key = DispatchKey.CUDA if "cuda" in devices else DispatchKey.CPU
        kernel = kernels.get(key)
    return kernel if callable(kernel) else None


# ------------------------------------------------------------------- rules
def _cond(mode: TorchDispatchMode, recorder: Recorder, func: HigherOrderOperator,
          args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    pred, true_fn, false_fn, operands = args
    taken = _known_bool(pred)
    if taken is None:
        recorder.assumptions.add(BRANCH_ASSUMPTION)
        return larger_of(
            recorder,
            [lambda: true_fn(*operands), lambda: false_fn(*operands)],
            lambda: _counted(mode),
        )
    with _counted(mode):
        return (true_fn if taken else false_fn)(*operands)


def _switch(mode: TorchDispatchMode, recorder: Recorder, func: HigherOrderOperator,
            args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``cond`` with N branches (torch >= 2.14): the branch ``index`` names, or
    on tensors without data the largest, said as an assumption."""
    index, branches, operands = args
    taken: int | None
    if isinstance(index, torch.Tensor):
        taken = None if _without_data(index) else int(index)
    else:
        try:
            taken = int(index)
        except Exception:  # a data-dependent symbol: unknown
            taken = None
    if taken is None:
        recorder.assumptions.add(BRANCH_ASSUMPTION)
        runs: list[Callable[[], Any]] = [
            functools.partial(branch, *operands) for branch in branches
        ]
        return larger_of(recorder, runs, lambda: _counted(mode))
    with _counted(mode):
        return branches[taken](*operands)


def _while_loop(mode: TorchDispatchMode, recorder: Recorder, func: HigherOrderOperator,
                args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    cond_fn, body_fn, carried, additional = args[:4]
    if not _without_data((carried, additional)):
        kernel = _dense_kernel(func, args)
        if kernel is not None:
            with _counted(mode):  # the real trip count
                return kernel(*args, **kwargs)
    # The predicate has no value: the body once, its output as the loop's (the
    # body returns what it carries, with the same metadata).
    with _counted(mode):
        cond_fn(*carried, *additional)
        out = body_fn(*carried, *additional)
    recorder.assumptions.add(LOOP_ASSUMPTION)
    stack_output = kwargs.get("stack_output", args[4] if len(args) > 4 else False)
    if hop_name(func) == "while_loop_stack_output" or stack_output:
        return tuple(t.unsqueeze(0) if isinstance(t, torch.Tensor) else t for t in out)
    return tuple(out)


def _scan(mode: TorchDispatchMode, recorder: Recorder, func: HigherOrderOperator,
          args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    # scan's eager kernel refuses to run under a mode; its loop does not.
    from torch._higher_order_ops.scan import generic_scan

    combine_fn, init, xs, additional = args
    with _counted(mode):  # one call per step of the scanned dimension
        return generic_scan(  # type: ignore[no-untyped-call]
            combine_fn, init, xs, additional_inputs=additional
        )


def _subgraphs(mode: TorchDispatchMode, recorder: Recorder, func: HigherOrderOperator,
               args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The HOP's eager kernel, with the counter active: it calls its functions
    (and ops) as eager code would, and each op inside is counted."""
    kernel = _dense_kernel(func, args)
    if kernel is None:
        return _opaque(mode, recorder, func, args, kwargs)
    with _counted(mode):
        return kernel(*args, **kwargs)


def _flex_attention(mode: TorchDispatchMode, recorder: Recorder, func: HigherOrderOperator,
                    args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    query, key, value, _score_mod, block_mask = args[:5]
    out = func(*args, **kwargs)  # its score_mod's ops are elementwise: not counted
    positions = block_positions(block_mask, query.shape, key.shape)
    if positions is None and _has_sparse_blocks(block_mask):
        recorder.assumptions.add(BLOCK_MASK_ASSUMPTION)
    recorder.add_macs(
        flex_attention_macs(tuple(query.shape), tuple(key.shape), tuple(value.shape), positions)
    )
    return out


def _flex_attention_backward(mode: TorchDispatchMode, recorder: Recorder,
                             func: HigherOrderOperator, args: tuple[Any, ...],
                             kwargs: dict[str, Any]) -> Any:
    query, key, value = args[:3]
    block_mask = args[8] if len(args) > 8 else kwargs.get("block_mask")
    out = func(*args, **kwargs)
    positions = block_positions(block_mask, query.shape, key.shape)
    recorder.add_macs(flex_attention_backward_macs(
        tuple(query.shape), tuple(key.shape), tuple(value.shape), positions
    ))
    return out


def _no_macs(mode: TorchDispatchMode, recorder: Recorder, func: HigherOrderOperator,
             args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return func(*args, **kwargs)


def _opaque(mode: TorchDispatchMode, recorder: Recorder, func: HigherOrderOperator,
            args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    out = func(*args, **kwargs)
    recorder.record_uncounted(f"higher_order::{hop_name(func)}")
    return out


def _has_sparse_blocks(block_mask: Any) -> bool:
    """A mask that may skip blocks (not the one full block of a call without
    a mask of its own)."""
    if not isinstance(block_mask, tuple) or len(block_mask) < 9:
        return False
    kv_indices = block_mask[3]
    return isinstance(kv_indices, torch.Tensor) and kv_indices.shape[-1] > 1


def block_positions(block_mask: Any, query: torch.Size, key: torch.Size) -> int | None:
    """The (query, key) positions a flex_attention block mask computes, summed
    over batch and query heads: every (query block, key block) pair it lists,
    full or partial, times the rows and columns of that block (the last block
    of a dimension may be short). None without a mask (every position), or
    where the mask's tensors have no values (fake or meta).

    ``block_mask`` is the HOP's tuple (``BlockMask.as_tuple()``): the two
    sequence lengths, ``kv_num_blocks, kv_indices, full_kv_num_blocks,
    full_kv_indices``, the transposed and ordering tensors, then
    ``Q_BLOCK_SIZE, KV_BLOCK_SIZE, mask_mod``. Without a mask of its own,
    ``flex_attention`` passes one full block of every position.
    """
    if not isinstance(block_mask, tuple) or len(block_mask) < 9:
        return None
    kv_num, kv_indices, full_num, full_indices = block_mask[2:6]
    q_block, kv_block = int(block_mask[-3]), int(block_mask[-2])
    if _without_data((kv_num, kv_indices, full_num, full_indices)):
        return None
    *lead, length, _ = query
    source = key[-2]
    with torch.no_grad():
        total = _listed_positions(kv_num, kv_indices, length, source, q_block, kv_block, lead)
        if full_num is not None:
            total += _listed_positions(
                full_num, full_indices, length, source, q_block, kv_block, lead
            )
    return total


def _listed_positions(
    num: torch.Tensor, indices: torch.Tensor, length: int, source: int,
    q_block: int, kv_block: int, lead: list[int],
) -> int:
    """Positions of the blocks ``indices[..., :num]`` lists, per query block,
    broadcast over the query's batch and heads (a mask made for batch or heads
    1 applies to all)."""
    q_blocks = indices.shape[-2]
    rows = (length - torch.arange(q_blocks) * q_block).clamp(0, q_block)
    listed = torch.arange(indices.shape[-1]) < num.unsqueeze(-1)
    cols = (source - indices.long() * kv_block).clamp(0, kv_block) * listed
    per_mask = cols.sum(-1) * rows  # [B', H', q_blocks]
    total = int(per_mask.sum())
    mask_lead = list(num.shape[:-1])
    for size, mask_size in zip(lead, mask_lead, strict=False):
        if mask_size == 1:
            total *= size
    return total


# Rules by HOP name. A reason for each HOP that needs no rule (it never reaches
# the counter) is in tests/test_higher_order.py.
RULES: dict[str, HopRule] = {
    "cond": _cond,
    "switch": _switch,
    "while_loop": _while_loop,
    "while_loop_stack_output": _while_loop,
    "scan": _scan,
    # Eager kernels that call their subgraph(s) or op as eager code would.
    **dict.fromkeys(
        (
            "map_impl", "associative_scan", "invoke_subgraph", "hints_wrapper", "strict_mode",
            "run_const_graph", "control_deps", "foreach_map", "invoke_quant",
            "invoke_quant_packed", "local_map_hop", "auto_functionalized",
            "auto_functionalized_v2", "with_effects", "out_dtype", "run_with_rng_state",
            "run_and_save_rng_state", "graphsafe_run_with_rng_state", "run_dtensor_rng_op",
            "trace_wrapped", "invoke_leaf_function",
            "flex_gemm",  # torch >= 2.14: its dense kernel runs the GEMM op, then its body
        ),
        _subgraphs,
    ),
    "flex_attention": _flex_attention,
    "flex_attention_backward": _flex_attention_backward,
    **dict.fromkeys(("print", "_export_tracepoint", "inline_asm_elementwise"), _no_macs),
    # Compiled or foreign code: what it does is not visible as ops.
    **dict.fromkeys(
        (
            "triton_kernel_wrapper_mutation", "triton_kernel_wrapper_functional",
            "executorch_call_delegate", "aoti_call_delegate", "call_torchbind",
            "inductor_compiled_code",
        ),
        _opaque,
    ),
}


def dispatch(mode: TorchDispatchMode, recorder: Recorder, func: HigherOrderOperator,
             *args: Any, **kwargs: Any) -> Any:
    """Runs one HOP call that reached the counter (the counter popped) and
    counts it by its rule."""
    rule = RULES.get(hop_name(func), _opaque)
    return rule(mode, recorder, func, args, kwargs)
