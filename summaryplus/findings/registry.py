"""Findings and the registry of the rules that make them.

A rule is a function of a ``Context`` (the summary, and its model when the
summary is live) that yields ``Finding``s; ``@rule("rule-id", ...)`` registers it.
Rule ids are stable: code and dashboards may key on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._plain import json_plain as _plain

#: Severities, most severe first: ``error`` will break (a run that fails),
#: ``warning`` costs memory or time, ``note`` is worth knowing.
SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class Finding:
    """One conclusion drawn from a summary's numbers.

    Attributes:
        rule: the stable id of the rule that made it (``"unused-parameters"``).
        severity: ``"error"``, ``"warning"`` or ``"note"`` (``SEVERITIES``).
        message: what was found, in one line, with the numbers.
        action: what to do about it.
        rows: module paths of the rows it is about (``""`` is the model).
        params: parameter or buffer names it is about.
        evidence: the numbers behind it (bytes, counts, shares), plain values.
    """

    rule: str
    severity: str
    message: str
    action: str
    rows: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            accepted = ", ".join(repr(name) for name in SEVERITIES)
            raise ValueError(f"severity={self.severity!r} is not valid; accepted: {accepted}")

    def __str__(self) -> str:
        return f"[{self.severity}] {self.rule}: {self.message} -> {self.action}"

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-compatible plain types."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "action": self.action,
            "rows": list(self.rows),
            "params": list(self.params),
            "evidence": _plain(dict(self.evidence)),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """The finding ``to_dict`` wrote.

        Raises:
            ValueError: a field is missing or of the wrong kind.
        """
        try:
            return cls(
                rule=str(data["rule"]),
                severity=str(data["severity"]),
                message=str(data["message"]),
                action=str(data["action"]),
                rows=tuple(str(row) for row in data.get("rows", ())),
                params=tuple(str(name) for name in data.get("params", ())),
                evidence=dict(data.get("evidence", {})),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"findings: not a finding ({error!r})") from None


@dataclass(frozen=True)
class Rule:
    """A registered rule: its id, whether it needs the model (a live summary),
    the severities it gives, one line on what it checks, and the check."""

    id: str
    needs_model: bool
    title: str
    check: Callable[[Any], Iterable[Finding]]


#: rule id -> Rule, in registration order (the order findings are listed in).
RULES: dict[str, Rule] = {}


def rule(
    rule_id: str, *, title: str, needs_model: bool
) -> Callable[[Callable[[Any], Iterable[Finding]]], Callable[[Any], Iterable[Finding]]]:
    """Registers a rule under ``rule_id``.

    Args:
        rule_id: the stable id (lowercase words joined by ``-``).
        title: what the rule checks, in a few words.
        needs_model: True when the rule reads the model (parameters, buffers,
            modules): it is skipped on a summary loaded from JSON (whose saved
            findings already hold what it found).

    Raises:
        ValueError: ``rule_id`` is registered already.
    """

    def register(
        check: Callable[[Any], Iterable[Finding]],
    ) -> Callable[[Any], Iterable[Finding]]:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id!r} is registered twice")
        RULES[rule_id] = Rule(rule_id, needs_model, title, check)
        return check

    return register


