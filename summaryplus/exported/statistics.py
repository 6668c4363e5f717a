"""``ExportedStatistics``: a ``ModelStatistics`` of an exported program, with
its dynamic sizes (their values in this summary) and MACs as a formula in them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model_statistics import ModelStatistics

if TYPE_CHECKING:
    from ..render.serialize import PathLike


class ExportedStatistics(ModelStatistics):
    """The summary of an exported program (``summary(exported_program)`` or a
    ``.pt2`` archive): rows, totals and every view as for a live model.

    Attributes added to ``ModelStatistics``'s:
        sizes: each dynamic size's name -> the value this summary is evaluated
            at (the example inputs' sizes, or those given); empty when the
            program has none.
        sizes_given: whether ``sizes`` come from ``input_size`` (else from the
            example inputs).
        size_sources: where each dynamic size first appears in the inputs
            (``{"s0": "tokens[1]"}``: input ``tokens``, dimension 1).
        mult_adds_formula: total MACs as an expression in the dynamic sizes
            (``"65536*s0 + 1024"``), or the number when nothing is dynamic.
        layer_mult_adds_formulas: each row's MACs (its subtree) the same way.
        formula_exact: False when an op could be counted at these sizes only
            (its formula branches on a size), so the formula holds here only.
    """

    def __init__(
        self,
        *args: Any,
        sizes: dict[str, int],
        sizes_given: bool,
        size_sources: dict[str, str],
        mult_adds_formula: str,
        layer_mult_adds_formulas: list[str],
        formula_exact: bool,
        **kwargs: Any,
    ) -> None:
        """``ModelStatistics``' arguments, and the dynamic part (see the class)."""
        super().__init__(*args, **kwargs)
        self.sizes = sizes
        self.sizes_given = sizes_given
        self.size_sources = size_sources
        self.mult_adds_formula = mult_adds_formula
        self.layer_mult_adds_formulas = layer_mult_adds_formulas
        self.formula_exact = formula_exact

    def dynamic_dict(self) -> dict[str, Any]:
        """The dynamic part of ``to_dict()``: sizes, and MACs as formulas."""
        return {
            "sizes": dict(self.sizes),
            "size_sources": dict(self.size_sources),
            "total_mult_adds_formula": self.mult_adds_formula,
            "layer_mult_adds_formulas": list(self.layer_mult_adds_formulas),
            "formula_exact": self.formula_exact,
        }

    def to_dict(self) -> dict[str, Any]:
        """``ModelStatistics.to_dict()`` plus ``"exported"``: ``dynamic_dict()``."""
        data = super().to_dict()
        data["exported"] = self.dynamic_dict()
        return data

    def to_json(self, path: PathLike | None = None, indent: int | None = 2) -> str:
        """The summary as JSON text (``to_dict()``), also written to ``path``."""
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text
