"""Findings: conclusions you can act on, drawn from a summary's numbers.

Each rule (one small module per family, registered in ``registry.RULES``)
reads a summary (and, for a live one, its model) and yields ``Finding``s with
a stable rule id, a severity, the rows or parameters it is about, the numbers
behind it and what to do. See docs/findings.md for every rule, its evidence
and its thresholds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..render.findings import findings_text
from . import (  # noqa: F401 (importing a rule module registers its rules)
    alignment,
    attention,
    coverage,
    deployment,
    dominance,
    dtypes,
    size,
    tying,
    usage,
)
from .context import Context, module_of
from .registry import RULES, SEVERITIES, Finding, Rule, rule

if TYPE_CHECKING:
    from ..records import SummaryLike

logger = logging.getLogger("summaryplus")

__all__ = ["RULES", "SEVERITIES", "Finding", "Findings", "Rule", "find", "rule"]


class Findings(list[Finding]):
    """The findings of a summary: a list, printed one per line with what to do."""

    def __str__(self) -> str:
        return findings_text(self, limit=None) or "Findings: none"


def find(summary: SummaryLike, rules: Iterable[str] | None = None) -> Findings:
    """Runs the rules over ``summary``; errors first, then warnings, then notes.

    A summary loaded from JSON keeps the findings saved with it (made with the
    model); without them (an older file) only the rules that need no model run.

    Args:
        summary: a live or loaded summary.
        rules: rule ids to run (default: all of ``RULES``).

    Raises:
        ValueError: an unknown rule id.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> class TwoHeads(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.head_a, self.head_b = nn.Linear(4, 2), nn.Linear(4, 2)
        ...     def forward(self, x):
        ...         return self.head_a(x)
        >>> stats = summary(TwoHeads(), input_size=(1, 4), verbose=0)
        >>> [(f.rule, f.params) for f in find(stats)]
        [('unused-parameters', ('head_b.weight', 'head_b.bias'))]
    """
    chosen = list(RULES) if rules is None else list(rules)
    unknown = [name for name in chosen if name not in RULES]
    if unknown:
        raise ValueError(
            f"rules={unknown!r} has unknown rule ids; accepted: {', '.join(RULES)}"
        )
    saved = getattr(summary, "saved_findings", None)
    if saved is not None:
        return Findings(finding for finding in saved if finding.rule in chosen)
    rows = summary.summary_list
    model = module_of(rows[0]) if rows else None
    context = Context(summary, model)
    found: list[Finding] = []
    for name in chosen:
        if model is None and RULES[name].needs_model:
            continue
        try:
            found.extend(RULES[name].check(context))
        except Exception:  # a rule's bug must not break the summary's exports
            logger.warning("summaryplus: finding rule %r failed; skipped", name, exc_info=True)
    return Findings(sorted(found, key=lambda finding: SEVERITIES.index(finding.severity)))
