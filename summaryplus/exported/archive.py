"""Reads a ``torch.export`` archive (``.pt2``) from its JSON entries only.

``torch.export.save`` writes a zip: ``<root>/archive_format`` (``pt2``),
``<root>/archive_version``, ``<root>/models/<name>.json`` (the serialized graph:
every node's ATen op, argument and output shapes, ``nn_module_stack``; the graph
signature), ``<root>/data/weights/model_weights_config.json`` (for each weight:
the file holding its bytes, its shape and dtype) and the raw weight files, plus
``data/sample_inputs/<name>.pt``, a pickle. This reader opens the zip's central
directory and reads the version files and those JSON entries: it never reads a
weight file and never unpickles anything, so a 10 GB archive costs what a small
one does and a malicious sample-inputs pickle never runs.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._checks import PT2_SUFFIXES as PT2_SUFFIXES
from .._untrusted import check_zip_members, load_json, read_zip_member
from ..errors import ExportedArchiveError

# What torch.export.save writes in the torch versions summaryplus supports
# (torch 2.13: archive version 0, graph schema 8.x).
KNOWN_ARCHIVE_VERSIONS = ("0",)
KNOWN_SCHEMA_MAJORS = (8,)


@dataclass(frozen=True)
class ArchiveContents:
    """The JSON parts of one model of a ``.pt2`` archive.

    Attributes:
        program: ``models/<name>.json`` parsed (schema ``ExportedProgram``).
        weights: ``model_weights_config.json``'s ``config``: fully qualified
            name -> its entry (``path_name``, ``tensor_meta``...); entries with
            the same ``path_name`` share one tensor (tied weights).
        constants: ``model_constants_config.json``'s ``config``, the same way.
        model_name: the ``<name>`` of ``models/<name>.json``.
    """

    program: dict[str, Any]
    weights: dict[str, Any]
    constants: dict[str, Any]
    model_name: str


def read_archive(path: str | os.PathLike[str], model: str | None = None) -> ArchiveContents:
    """Reads the graph and weight configs of a ``.pt2`` archive, no tensor data.

    Args:
        path: the archive.
        model: which of its models (``models/<model>.json``); default the only
            one, or ``model``.

    Raises:
        ExportedArchiveError: not a zip archive, not a ``pt2`` archive, an
            archive version or graph schema this reader does not know, or no
            such model; the message is one line.
        FileNotFoundError: ``path`` does not exist.
    """
    file = Path(path)
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile as error:
        message = f"{file}: not a torch.export archive (not a zip file)"
        raise ExportedArchiveError(message) from error
    with archive:
        # Central directory first: no member named outside the archive, none that
        # would inflate past the budget (weights are never read at all).
        check_zip_members(archive, ExportedArchiveError, str(file))
        names = archive.namelist()
        root = _root_folder(file, names)
        entries = set(names)

        def raw(name: str) -> bytes | None:
            full = f"{root}{name}"
            if full not in entries:
                return None
            return read_zip_member(archive, full, ExportedArchiveError, str(file))

        def text(name: str) -> str | None:
            data = raw(name)
            try:
                return None if data is None else data.decode("utf-8").strip()
            except UnicodeDecodeError:
                message = f"{file}: the entry {name!r} is not UTF-8 text"
                raise ExportedArchiveError(message) from None

        def parsed(name: str) -> Any:
            data = raw(name)
            subject = f"the entry {name!r}"
            value = (
                {} if data is None
                else load_json(data, ExportedArchiveError, str(file), subject=subject)
            )
            if not isinstance(value, dict):
                raise ExportedArchiveError(f"{file}: {subject} is not a JSON object")
            return value

        fmt = text("archive_format")
        if fmt != "pt2":
            raise ExportedArchiveError(
                f"{file}: not a torch.export archive (no archive_format pt2)"
            )
        version = text("archive_version")
        if version not in KNOWN_ARCHIVE_VERSIONS:
            raise ExportedArchiveError(
                f"{file}: archive version {version} is not one summaryplus reads "
                f"(it reads {', '.join(KNOWN_ARCHIVE_VERSIONS)}, as torch.export.save "
                "writes in torch 2.13)"
            )
        models = sorted(
            name[len(root) + len("models/"):-len(".json")]
            for name in names
            if name.startswith(f"{root}models/") and name.endswith(".json")
        )
        name = _pick_model(file, models, model)
        program = parsed(f"models/{name}.json")
        _check_schema(file, program)
        weights = parsed(f"data/weights/{name}_weights_config.json").get("config", {})
        constants = parsed(f"data/constants/{name}_constants_config.json").get("config", {})
        for what, table in (("weights", weights), ("constants", constants)):
            if not isinstance(table, dict):
                raise ExportedArchiveError(f"{file}: the {what} config is not a JSON object")
    return ArchiveContents(program, weights, constants, name)


def _root_folder(file: Path, names: list[str]) -> str:
    """``torch.export.save`` puts every entry under one folder (the file's stem)."""
    for name in names:
        if name.endswith("archive_format"):
            return name[: -len("archive_format")]
    raise ExportedArchiveError(f"{file}: not a torch.export archive (no archive_format entry)")


def _pick_model(file: Path, models: list[str], model: str | None) -> str:
    if model is not None:
        if model not in models:
            raise ExportedArchiveError(
                f"{file}: no model {model!r} in the archive (it holds {', '.join(models)})"
            )
        return model
    if "model" in models or len(models) == 1:
        return "model" if "model" in models else models[0]
    if not models:
        raise ExportedArchiveError(
            f"{file}: the archive holds no exported program (no models/*.json; an "
            "AOTInductor package holds compiled code, not a graph)"
        )
    raise ExportedArchiveError(f"{file}: the archive holds several models: {', '.join(models)}")


def _check_schema(file: Path, program: dict[str, Any]) -> None:
    schema = program.get("schema_version") or {}
    major = schema.get("major")
    if major not in KNOWN_SCHEMA_MAJORS or "graph_module" not in program:
        written_by = program.get("torch_version", "an unknown torch")
        raise ExportedArchiveError(
            f"{file}: graph schema {major}.{schema.get('minor')} (written by torch "
            f"{written_by}) is not one summaryplus reads (it reads "
            f"{', '.join(f'{m}.x' for m in KNOWN_SCHEMA_MAJORS)}, torch 2.13)"
        )
