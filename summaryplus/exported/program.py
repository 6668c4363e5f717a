"""An ``ExportedProgram`` in memory, in the JSON schema a ``.pt2`` archive holds.

The graph goes through torch's own serializer (no tensor data, no state dict,
no example inputs), so that programs in memory and archives on disk are read by
one reader (``graph.py``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .. import _tensors

if TYPE_CHECKING:
    from torch.export import ExportedProgram


def serialized_program(program: ExportedProgram) -> dict[str, Any]:
    """The program's graph as the JSON dict ``models/model.json`` holds."""
    from torch._export.serde.serialize import ExportedProgramSerializer, _to_json_bytes

    serialized = ExportedProgramSerializer().serialize(
        program,
        serialize_state_dict=False,
        serialize_constants=False,
        serialize_example_inputs=False,
    )
    data: dict[str, Any] = json.loads(_to_json_bytes(serialized.exported_program))
    return data


def tie_keys(program: ExportedProgram) -> dict[str, str]:
    """Each parameter's and buffer's name -> a key shared by names that hold
    the same tensor (tied weights), as an archive's ``path_name`` is."""
    keys: dict[object, str] = {}
    ties: dict[str, str] = {}
    tensors = {**program.state_dict, **program.constants}
    for name, tensor in tensors.items():
        if not hasattr(tensor, "shape"):
            continue  # a custom object, not a tensor
        key = _tensors.tensor_key(tensor)
        ties[name] = keys.setdefault(key, name)
    return ties
