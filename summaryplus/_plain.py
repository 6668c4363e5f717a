"""Values as JSON's own types (one job: what ``json.loads`` would give back)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def json_plain(value: Any) -> Any:
    """Tuples as lists and mapping keys as strings, recursively, so a value
    written to JSON reads back equal."""
    if isinstance(value, (list, tuple)):
        return [json_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): json_plain(item) for key, item in value.items()}
    return value
