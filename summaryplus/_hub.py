"""A model's ``config.json`` from the Hugging Face hub, by the name people type (``org/model``).

Only ``config.json`` is fetched, never weights, through ``huggingface_hub``'s
``hf_hub_download``: its cache (``HF_HOME``/``HF_HUB_CACHE``), offline mode
(``HF_HUB_OFFLINE=1``: the cache alone) and token (``hf auth login`` or
``HF_TOKEN``) apply as everywhere else. ``huggingface_hub`` is imported only here,
when a hub name is used (``pip install 'summaryplus[hub]'``; transformers brings it).

The rule for a TARGET that could be either: a file or folder that exists is a
path, always; otherwise ``ORG/NAME`` (two parts of letters, digits, ``-``, ``_``,
``.``, the first starting with a letter or digit, the last not ending in a file
suffix the command reads) is a hub name.
"""

from __future__ import annotations

import re
from pathlib import Path

from ._factories import FAILURE, USAGE, CommandError, one_line
from ._untrusted import contained

_PART = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_HUB_NAME = re.compile(rf"{_PART}/{_PART}")
# A missing file with one of these suffixes is a typo'd path, not a hub name.
_FILE_SUFFIXES = (".json", ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".py")


def looks_like_hub_name(target: str) -> bool:
    """``org/model`` (e.g. ``meta-llama/Llama-3.1-8B``) and not a path-like name.

    >>> looks_like_hub_name("openai/whisper-tiny"), looks_like_hub_name("./a/b")
    (True, False)
    >>> looks_like_hub_name("models/config.json"), looks_like_hub_name("gpt2")
    (False, False)
    """
    return (
        _HUB_NAME.fullmatch(target) is not None
        and ".." not in target
        and not target.lower().endswith(_FILE_SUFFIXES)
    )


def fetch_config(name: str) -> Path:
    """The local path of ``name``'s ``config.json``, downloaded or from the cache.

    Raises:
        CommandError: huggingface_hub missing; the name unknown to the hub (exit
            status 2); a gated repository without access, an offline cache miss,
            no network, a repository without ``config.json`` (1). One line each.
    """
    try:
        from huggingface_hub import errors, hf_hub_download
    except ImportError:
        raise CommandError(
            f"{name}: reading a config from the Hugging Face hub needs huggingface_hub: "
            "pip install 'summaryplus[hub]'",
            USAGE,
        ) from None
    page = f"https://huggingface.co/{name}"
    try:
        path = Path(hf_hub_download(repo_id=name, filename="config.json"))
    except errors.GatedRepoError:
        raise CommandError(
            f"{name} is gated: accept its terms at {page} and log in "
            "(hf auth login, or set HF_TOKEN)"
        ) from None
    except errors.RepositoryNotFoundError:
        raise CommandError(
            f"{name}: no such model on the Hugging Face hub (a private one needs a "
            "login: hf auth login, or set HF_TOKEN)",
            USAGE,
        ) from None
    except errors.LocalEntryNotFoundError:
        raise CommandError(f"{name}: {_why_not_cached()}") from None
    except errors.EntryNotFoundError:
        raise CommandError(
            f"{name} has no config.json on the Hugging Face hub (not a transformers model?)"
        ) from None
    except errors.HFValidationError as error:
        raise CommandError(f"{name!r} is not a valid hub name ({one_line(error)})", USAGE) from None
    except (errors.OfflineModeIsEnabled, OSError) as error:
        raise CommandError(
            f"{name}: fetching config.json from the Hugging Face hub failed: {one_line(error)}",
            FAILURE,
        ) from None
    # The cache's own layout (snapshots/<rev>/config.json -> ../../blobs/<hash>)
    # and nothing else: a snapshot entry linked out of the cache is refused.
    return contained(path.parent, path.name, CommandError, f"{name} (Hugging Face cache)")


def _why_not_cached() -> str:
    from huggingface_hub import constants

    where = constants.HF_HUB_CACHE
    if getattr(constants, "HF_HUB_OFFLINE", False):
        return (
            f"config.json is not in the Hugging Face cache ({where}) and HF_HUB_OFFLINE is "
            "set; fetch it once online, or give a local config.json"
        )
    return (
        f"cannot reach the Hugging Face hub, and config.json is not in the cache ({where}); "
        "check the network, or give a local config.json"
    )


__all__ = ["fetch_config", "looks_like_hub_name"]
