"""What a command's TARGET names: a factory, a checkpoint, a config (a file,
a folder, or a hub name fetched here) or an exported program."""

from __future__ import annotations

import os
from pathlib import Path

from .._checks import PT2_SUFFIXES
from .._factories import USAGE, CommandError
from .._hub import fetch_config, looks_like_hub_name
from .._untrusted import contained, load_json_file
from ..checkpoints import SAFETENSORS_SUFFIXES, TORCH_SUFFIXES, find_index, weight_files


def classify(target: str) -> tuple[str, Path]:
    """What TARGET names: ("factory" | "checkpoint" | "config" | "exported", path).

    A file or folder that exists wins over a hub name of the same spelling; a
    hub name (``org/model``) is fetched here, so it arrives as a local config."""

    path = Path(target)
    weights = SAFETENSORS_SUFFIXES + TORCH_SUFFIXES
    if path.is_dir():
        if find_index(path) is not None or weight_files(path):
            return "checkpoint", path
        if (path / "config.json").is_file():
            # Found by looking in the folder: it must stay in it (no link out).
            return "config", contained(path, "config.json", CommandError, target)
        raise CommandError(
            f"{target}: this folder has no checkpoint (*.safetensors, *.bin, *.pt, "
            "*.index.json) and no config.json",
            USAGE,
        )
    name = path.name.lower()
    if path.is_file():
        if name.endswith(PT2_SUFFIXES):
            return "exported", path
        if name.endswith(weights) or name.endswith(".index.json"):
            return "checkpoint", path
        if name.endswith(".json"):
            return ("checkpoint" if _has_weight_map(path) else "config"), path
        if name.endswith(".py"):
            raise CommandError(f"{target}: name the factory to call: {target}:CALLABLE", USAGE)
        raise CommandError(
            f"{target}: unknown extension {path.suffix or '(none)'!r}; expected "
            f"{', '.join(weights)}, .pt2, .json, or MODULE:CALLABLE",
            USAGE,
        )
    if ":" in target:
        return "factory", path

    if looks_like_hub_name(target):
        # Nothing of that name on disk (checked above): a hub name, its config only.
        return "config", fetch_config(target)
    if path.suffix or os.sep in target or "/" in target:
        raise CommandError(f"no such file or folder: {target}", USAGE)
    raise CommandError(
        f"{target!r} is not a file or folder, and not a factory (MODULE:CALLABLE needs a ':')",
        USAGE,
    )


def _has_weight_map(path: Path) -> bool:
    try:
        data = load_json_file(path, ValueError)
    except (ValueError, OSError):
        return False
    return isinstance(data, dict) and "weight_map" in data
