"""Argument checks shared by the charts: each names the argument and the accepted values."""

from __future__ import annotations

import os

from ...protocols import is_summary
from ._style import FORMATS


def _check_stats(stats: object, argument: str = "stats") -> None:
    if not is_summary(stats):
        raise TypeError(
            f"{argument} must be a summary (what summary() or load_summary() returns), "
            f"got {type(stats).__name__}"
        )


def _check_choice(value: object, argument: str, accepted: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in accepted:
        names = ", ".join(repr(name) for name in accepted)
        raise ValueError(f"{argument}={value!r} is not valid; accepted values: {names}")
    return value


def _check_top_k(top_k: object) -> None:
    if top_k is None:
        return
    if isinstance(top_k, bool) or not isinstance(top_k, int):
        raise TypeError(f"top_k must be an int >= 1 or None, got {type(top_k).__name__}")
    if top_k < 1:
        raise ValueError(f"top_k={top_k} is not valid; accepted values: an int >= 1 or None")


def _check_flag(value: object, argument: str, *, allow_none: bool = False) -> None:
    if isinstance(value, bool) or (allow_none and value is None):
        return
    accepted = "True, False or None" if allow_none else "True or False"
    raise ValueError(f"{argument}={value!r} is not valid; accepted values: {accepted}")


def _check_title(title: object) -> None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")


def _check_path(path: object) -> str | None:
    """The format ``path``'s extension names (``"png"``), or None without a path."""
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in FORMATS:
        raise ValueError(
            f"path={os.fspath(path)!r}: the extension {extension or '(none)'!r} is not "
            f"valid; accepted values: {', '.join(FORMATS)}"
        )
    return extension[1:]
