"""Reading files someone else wrote: one containment rule and one set of budgets
for every reader (checkpoints, sharded indexes, ``.pt2`` archives, configs, hub
caches, saved summaries).

- **Containment** (:func:`contained`): a path a reader found in a file (a
  ``weight_map`` entry) or by listing a folder resolves, symlinks followed,
  inside the folder the user named; in a Hugging Face cache snapshot
  (``<repo>/snapshots/<rev>/file -> ../../blobs/<hash>``) it may also resolve
  inside that repository's ``blobs/``. Anything else is refused before it is
  opened. :func:`zip_member_name` is the same rule for a name inside a zip.
- **Budgets** (:func:`load_json`, :func:`check_zip_members`,
  :func:`read_zip_member`): JSON is refused above a stated size and nesting
  before it is parsed (so never a ``RecursionError``, whatever the recursion
  limit); a zip member is refused when its declared size or compression ratio
  is over the cap, before a byte is inflated.

Every refusal is the caller's own error type (``CheckpointError``,
``ExportedArchiveError``, ``ValueError``), with one line naming the entry. The
limits are in docs/security.md.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

# JSON text larger than this is refused unread (a safetensors header is capped
# at 100 MB by its own format; a config or saved summary is kilobytes to a few MB).
MAX_JSON_BYTES = 100_000_000
# Nesting deeper than this is refused before parsing. Real files nest 3-6 levels
# (a saved summary: object > layers > row > shape > dim); the C JSON parser
# recurses once per level, so an unbounded depth is a RecursionError, or a
# crash when the caller raised the recursion limit.
MAX_JSON_DEPTH = 64
# A zip member (a .pt's data.pkl, a .pt2's graph JSON) that would inflate past
# this, or more than MAX_ZIP_RATIO times its compressed size, is refused before
# inflating. torch.save stores tensor data uncompressed, so the ratio only
# matters for compressed members.
MAX_ZIP_MEMBER_BYTES = 256_000_000
MAX_ZIP_RATIO = 200
# Compressed members under this size are never refused for their ratio (a few
# kB of zeros compresses a thousandfold and costs nothing).
_RATIO_FLOOR_BYTES = 1_000_000

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def contained(
    root: Path, entry: str | os.PathLike[str], error: type[Exception], where: str
) -> Path:
    """``root / entry``, when it stays inside ``root`` (symlinks followed).

    ``entry`` is a path relative to ``root`` as a file states it (a
    ``weight_map`` value) or a path found by listing ``root``. It must not be
    absolute, must not climb out with ``..``, and, resolved, must land inside
    ``root`` resolved, or, when ``root`` is a Hugging Face cache snapshot
    (``.../snapshots/<rev>``), inside that cache repository's ``blobs/``.

    Args:
        root: the folder the user named (or the folder of the file they named).
        entry: the path to check.
        error: the exception class the caller documents (``CheckpointError``...).
        where: what named the entry, for the message (``"model.safetensors.index.json"``).

    Returns:
        The path to open (``root / entry``).

    Raises:
        error: the entry leaves ``root``; one line naming it.

    Example:
        >>> from pathlib import Path
        >>> contained(Path("/data/ckpt"), "model-00001.safetensors", ValueError, "index")
        PosixPath('/data/ckpt/model-00001.safetensors')
        >>> contained(Path("/data/ckpt"), "../x.safetensors", ValueError, "index")
        Traceback (most recent call last):
        ...
        ValueError: index: refusing '../x.safetensors': it is outside /data/ckpt (...)
    """
    text = os.fspath(entry)
    candidate = root / text
    if "\0" in text or os.path.isabs(text) or not _lexically_inside(root, candidate):
        raise error(
            f"{where}: refusing {text!r}: it is outside {root} (an absolute path or "
            "'..' leaves the folder, and summaryplus reads only inside it)"
        )
    resolved = candidate.resolve()
    allowed = [root.resolve()]
    if root.resolve().parent.name == "snapshots":
        # The Hugging Face cache: snapshots/<rev>/file -> ../../blobs/<hash>.
        allowed.append(root.resolve().parent.parent / "blobs")
    if not any(resolved == base or base in resolved.parents for base in allowed):
        raise error(
            f"{where}: refusing {text!r}: it is a link to {resolved}, outside {root} "
            "(summaryplus reads only inside the folder it was given)"
        )
    return candidate


def _lexically_inside(root: Path, candidate: Path) -> bool:
    base = os.path.normpath(os.path.abspath(root))
    path = os.path.normpath(os.path.abspath(candidate))
    return os.path.commonpath([base, path]) == base


def zip_member_name(name: str, error: type[Exception], where: str) -> str:
    """``name`` when it is a plain relative name inside a zip (no ``..``, not absolute)."""
    parts = name.replace("\\", "/").split("/")
    absolute = name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) is not None
    if absolute or ".." in parts or "\0" in name:
        raise error(
            f"{where}: refusing the archive entry {name!r}: it names a path outside the archive"
        )
    return name


def load_json(
    raw: bytes | str,
    error: type[Exception],
    where: str,
    *,
    subject: str = "the file",
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """``json.loads(raw)`` within a size and nesting budget.

    The nesting is measured before parsing, in passes over the brackets alone
    (strings blanked; each pass removes the innermost pairs, one level): at
    most ``max_depth`` + 1 passes, each a C ``bytes.replace``, never a recursion.

    Raises:
        error: the text is over ``max_bytes``, nests deeper than ``max_depth``,
            or is not valid UTF-8 JSON; one line naming ``where``.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise error(
            f"{where}: {subject} is more than {max_bytes:,} bytes of JSON (the limit "
            "summaryplus reads)"
        )
    # Only the brackets, both kinds as one (the parser checks they match).
    brackets = _STRING.sub(b'""', data).translate(_ONE_KIND, _NOT_BRACKETS)
    too_deep = error(
        f"{where}: {subject} nests JSON deeper than {max_depth} levels (summaryplus reads "
        f"at most {max_depth}; a real file nests a handful)"
    )
    if b"[" * (max_depth + 1) in brackets:
        raise too_deep  # the usual bomb, [[[[..., found in one search
    for _ in range(max_depth + 1):
        reduced = brackets.replace(b"[]", b"")
        if reduced == brackets:
            break
        brackets = reduced
    else:
        raise too_deep
    if brackets:
        # Unbalanced: never handed to the parser, which would recurse into it.
        raise error(f"{where}: {subject} is not valid JSON (unbalanced brackets)")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as failure:
        raise error(f"{where}: {subject} is not valid JSON ({failure})") from None


def load_json_file(
    path: Path,
    error: type[Exception],
    where: str | None = None,
    *,
    subject: str = "the file",
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """:func:`load_json` of a file, read no further than ``max_bytes`` + 1."""
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    return load_json(
        data, error, where or str(path), subject=subject, max_bytes=max_bytes, max_depth=max_depth
    )


def check_zip_members(
    archive: zipfile.ZipFile,
    error: type[Exception],
    where: str,
    *,
    max_bytes: int = MAX_ZIP_MEMBER_BYTES,
    max_ratio: int = MAX_ZIP_RATIO,
    stored_unbounded: bool = True,
) -> None:
    """Refuses an archive whose members would inflate past the budget.

    Reads only the central directory: each member's declared size and, for a
    compressed member, its ratio to the compressed size. With
    ``stored_unbounded`` an uncompressed (stored) member may be of any size:
    it costs what it occupies on disk, and tensor data is stored that way.

    Raises:
        error: a member over ``max_bytes`` or ``max_ratio``; one line naming it.
    """
    for info in archive.infolist():
        zip_member_name(info.filename, error, where)
        if info.compress_type == zipfile.ZIP_STORED and stored_unbounded:
            continue
        _check_member(info, error, where, max_bytes, max_ratio)


def _check_member(
    info: zipfile.ZipInfo, error: type[Exception], where: str, max_bytes: int, max_ratio: int
) -> None:
    if info.file_size > max_bytes:
        raise error(
            f"{where}: the archive entry {info.filename!r} declares {info.file_size:,} bytes, "
            f"over the {max_bytes:,}-byte limit summaryplus inflates"
        )
    if (
        info.compress_type != zipfile.ZIP_STORED
        and info.file_size > _RATIO_FLOOR_BYTES
        and info.file_size > max_ratio * max(info.compress_size, 1)
    ):
        raise error(
            f"{where}: the archive entry {info.filename!r} inflates {info.compress_size:,} "
            f"bytes to {info.file_size:,} (over {max_ratio}x: a zip bomb?)"
        )


def read_zip_member(
    archive: zipfile.ZipFile,
    name: str,
    error: type[Exception],
    where: str,
    *,
    max_bytes: int = MAX_JSON_BYTES,
    max_ratio: int = MAX_ZIP_RATIO,
) -> bytes:
    """One member's bytes, refused before inflating when over the budget; a
    member whose data runs past its declared size is refused too."""
    info = archive.getinfo(zip_member_name(name, error, where))
    _check_member(info, error, where, max_bytes, max_ratio)
    with archive.open(info) as handle:
        data = handle.read(info.file_size + 1)
    if len(data) > info.file_size:  # pragma: no cover - zipfile stops at the declared size
        raise error(f"{where}: the archive entry {name!r} holds more than it declares")
    return data
