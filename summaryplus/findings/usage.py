"""Parameters training cannot use: trainable parameters of modules that never
ran, and (train mode) trainable parameters no gradient reaches. DDP fails on
both unless ``find_unused_parameters=True``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .context import Context, listed
from .registry import Finding, rule

_DDP = (
    "DistributedDataParallel fails on them (\"Expected to have finished reduction in "
    "the prior iteration\"): pass find_unused_parameters=True (slower), or remove "
    "them or freeze them (requires_grad_(False))"
)


def _without_gradient(summary: Any) -> tuple[str, ...] | None:
    """Names of the trainable parameters no gradient reaches (train mode,
    ``unused_trainable_params``); None where that was not measured."""
    if getattr(summary, "gradient_params", None) is None:
        return None
    names: tuple[str, ...] = getattr(summary, "unused_trainable_params", ())
    return names


@rule(
    "unused-parameters",
    title="trainable parameters of modules that never ran",
    needs_model=True,
)
def unused_parameters(context: Context) -> Iterator[Finding]:
    summary = context.summary
    if not summary.executed or not summary.summary_list:
        return
    # Train mode knows exactly which parameters get a gradient: a parameter
    # of a module that never ran but used by another's code is not unused.
    without = _without_gradient(summary)
    missing = None if without is None else set(without)
    executed = context.executed_modules
    names, numel, rows = [], 0, []
    for param in context.parameters:
        if not param.tensor.requires_grad or any(id(m) in executed for m in param.owners):
            continue
        if missing is not None and param.name not in missing:
            continue
        names.append(param.name)
        numel += param.tensor.numel()
        path = param.name.rpartition(".")[0]
        if path not in rows:
            rows.append(path)
    if names:
        yield Finding(
            "unused-parameters",
            "error",
            f"{len(names):,} trainable parameter tensor(s) ({numel:,} params) belong to "
            f"modules that never ran in the forward: {listed(names)}",
            _DDP,
            rows=tuple(rows),
            params=tuple(names),
            evidence={"tensors": len(names), "params": numel},
        )


@rule(
    "no-gradient",
    title="trainable parameters of modules that ran but get no gradient (train mode)",
    needs_model=True,
)
def no_gradient(context: Context) -> Iterator[Finding]:
    without = _without_gradient(context.summary)
    if not without:
        return
    missing = set(without)
    executed = context.executed_modules
    found = [
        param
        for param in context.parameters
        if param.name in missing and any(id(m) in executed for m in param.owners)
    ]
    if found:
        names = [param.name for param in found]
        numel = sum(param.tensor.numel() for param in found)
        rows = tuple(dict.fromkeys(name.rpartition(".")[0] for name in names))
        yield Finding(
            "no-gradient",
            "error",
            f"{len(names):,} trainable parameter tensor(s) ({numel:,} params) of modules "
            f"that ran get no gradient (not on the path to the outputs): {listed(names)}",
            f"{_DDP}; or use what those modules compute",
            rows=rows,
            params=tuple(names),
            evidence={"tensors": len(names), "params": numel},
        )
