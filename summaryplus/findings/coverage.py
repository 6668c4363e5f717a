"""How complete the counts are: ops that ran without a MACs formula, and counts
that depend on the data (an assumed routing, capacity-dropping routers)."""

from __future__ import annotations

from collections.abc import Iterator

from .context import Context, listed
from .registry import Finding, rule


@rule("uncounted-ops", title="ops that ran without a MACs formula", needs_model=False)
def uncounted_ops(context: Context) -> Iterator[Finding]:
    ops = context.summary.uncounted_ops
    if not ops:
        return
    rows = [row.module_path for row in context.rows
            if row.macs_partial and row.is_leaf_layer and row.module_path]
    names = [f"{name} x{count}" for name, count in ops.items()]
    yield Finding(
        "uncounted-ops",
        "note",
        f"MACs are a lower bound: no formula for {listed(names)}"
        + (f"; in {listed(rows)}" if rows else ""),
        "register a formula (summaryplus.formulas.register_macs) if the op does "
        "matrix work, or report it",
        rows=tuple(rows),
        evidence={"ops": dict(ops)},
    )


@rule("data-dependent-counts", title="counts that depend on the data", needs_model=False)
def data_dependent_counts(context: Context) -> Iterator[Finding]:
    summary = context.summary
    assumed = tuple(getattr(summary, "assumptions", ()))
    moe = getattr(summary, "moe", None)
    dropping = bool(getattr(moe, "data_dependent", False))
    if not assumed and not dropping:
        return
    what = list(assumed)
    if dropping:
        what.append("routers drop tokens over expert capacity: active params depend on the data")
    yield Finding(
        "data-dependent-counts",
        "note",
        f"some counts depend on the data: {'; '.join(what)}",
        "summarize on real inputs (device='cpu' with input_data) for the counts of that data",
        evidence={"assumptions": what},
    )
