"""An activation-checkpointing plan as text, and the snippet that applies it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..units import readable_bytes
from .output import Table

if TYPE_CHECKING:
    from ..recompute import CheckpointPlan

_SHOWN_PATHS = 12


def _size(num_bytes: float) -> str:
    """Decimal units, and GiB beside GB from 1 GiB (GPUs are sold in GiB)."""
    text = readable_bytes(num_bytes)
    return f"{text} ({num_bytes / 2**30:,.2f} GiB)" if num_bytes >= 2**30 else text


def plan_text(plan: CheckpointPlan) -> str:
    """What to wrap, the bytes and FLOPs it gives, and the snippet."""
    paths = list(plan.paths)
    shown = ", ".join(paths[:_SHOWN_PATHS]) + (
        f" and {len(paths) - _SHOWN_PATHS} more" if len(paths) > _SHOWN_PATHS else ""
    )
    share = plan.recompute_flops / plan.forward_flops if plan.forward_flops else 0.0
    verdict = "fits" if plan.fits else "does NOT fit (even with every candidate wrapped)"
    lines = [
        f"Activation checkpointing for a budget of {_size(plan.budget)}: {verdict}",
        f"  wrap {len(paths)} of {len(plan.candidates)} candidate modules"
        + (f": {shown}" if paths else " (none needed)" if plan.fits else
           " (none helps: the peak is not set by activations, see the parts below)"),
        f"  saved for backward   {_size(plan.saved_bytes_before):>12} -> "
        f"{_size(plan.saved_bytes):>12}  ({plan.saved_bytes:,} B, summary's dtype)",
        f"  training peak        {_size(plan.peak_before):>12} -> {_size(plan.peak):>12}"
        f"  ({plan.memory.optimizer}"
        + (f", {plan.memory.dtype}" if plan.memory.dtype else "")
        + ")",
        f"  recompute            {plan.recompute_flops / 1e9:,.1f} GFLOPs per step "
        f"({share:.0%} of the forward, run again in the backward)",
    ]
    if not plan.fits:
        lines += ["", str(plan.memory)]
    if paths:
        lines += ["", plan_snippet(plan)]
    return "\n".join(lines)


def plan_table(plan: CheckpointPlan) -> Table:
    """The plan as a table of the output model (``summaryplus plan --checkpoint``)."""
    share = plan.recompute_flops / plan.forward_flops if plan.forward_flops else 0.0
    paths = list(plan.paths)
    shown = ", ".join(paths[:_SHOWN_PATHS]) + (
        f" and {len(paths) - _SHOWN_PATHS} more" if len(paths) > _SHOWN_PATHS else ""
    )
    rows = (
        ("Budget per GPU", _size(plan.budget)),
        ("Fits", "yes" if plan.fits else "no (even with every candidate wrapped)"),
        (f"Wrap ({len(paths)} of {len(plan.candidates)})", shown or "nothing"),
        ("Saved for backward", f"{_size(plan.saved_bytes_before)} -> {_size(plan.saved_bytes)}"),
        ("Training peak per GPU", f"{_size(plan.peak_before)} -> {_size(plan.peak)}"),
        ("Recompute", f"{plan.recompute_flops / 1e9:,.1f} GFLOPs ({share:.0%} of the forward)"),
    )
    return Table(("Quantity", "Value"), rows, ("left", "left"), "Activation checkpointing")


def plan_snippet(plan: CheckpointPlan) -> str:
    """Python applying the plan to ``model`` (``torch.distributed``'s
    ``apply_activation_checkpointing`` with a ``check_fn`` over the paths;
    ``gradient_checkpointing_enable`` when it wraps the same layers)."""
    if plan.transformers_layers:
        return (
            "# every decoder layer: transformers' own switch wraps exactly these\n"
            'model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": '
            "False})"
        )
    return (
        "from functools import partial\n"
        "from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (\n"
        "    CheckpointImpl, apply_activation_checkpointing, checkpoint_wrapper)\n"
        "\n"
        f"PATHS = {_paths_literal(plan.paths)}\n"
        "wrapped = {id(m) for name, m in model.named_modules() if name in PATHS}\n"
        "apply_activation_checkpointing(\n"
        "    model,\n"
        "    checkpoint_wrapper_fn=partial(checkpoint_wrapper, "
        "checkpoint_impl=CheckpointImpl.NO_REENTRANT),\n"
        "    check_fn=lambda module: id(module) in wrapped,\n"
        ")"
    )


def _paths_literal(paths: tuple[str, ...]) -> str:
    """The paths as a Python set: ``{f"model.layers.{i}" for i in range(28)}`` for
    a run of numbered siblings, else one string per line."""
    found = [re.fullmatch(r"(.*\.)(\d+)", path) for path in paths]
    prefixes = {match.group(1) for match in found if match}
    prefix = prefixes.pop() if len(prefixes) == 1 else None
    if len(paths) > 3 and prefix is not None and all(found) and re.fullmatch(r"[\w.]*", prefix):
        numbers = [int(match.group(2)) for match in found if match]
        if numbers == list(range(numbers[0], numbers[-1] + 1)):
            start = f"{numbers[0]}, " if numbers[0] else ""
            return f'{{f"{prefix}{{i}}" for i in range({start}{numbers[-1] + 1})}}'
    lines = ",\n".join(f"    {path!r}" for path in paths)
    return f"{{\n{lines},\n}}"
