"""Argument checks shared by the views: one message shape for every bad value."""

from __future__ import annotations


def check_count(value: object, argument: str, *, allow_none: bool = False) -> None:
    """Raises unless ``value`` is an int >= 0 (or None when ``allow_none``).

    Raises:
        TypeError: not an int (a bool is not accepted as one).
        ValueError: negative; the message names ``argument`` and what is accepted.
    """
    if value is None and allow_none:
        return
    accepted = "an int >= 0 or None" if allow_none else "an int >= 0"
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{argument} must be {accepted}, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{argument}={value} is not valid; accepted values: {accepted}")
