"""From ``input_size`` / ``input_data`` / ``dtypes`` / ``batch_dim`` / kwargs to the
exact positional and keyword arguments of one forward call, on the right device.

Nothing here touches the model or the global RNG: random inputs come from a
private, seeded generator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ._tensors import tensor_shape
from .capture.input_copies import copy_inputs
from .errors import DeviceError
from .values import iter_tensors, total_bytes

# One input's shape, or several inputs' shapes.
Shape = Sequence[int] | torch.Size
InputSize = Shape | Sequence[Shape]
InputData = Any

_SEED = 0


@dataclass
class ForwardInputs:
    """Everything ``capture_forward`` needs to call the model."""

    args: list[Any]
    kwargs: dict[str, Any]
    device: torch.device
    fake: bool
    # What ModelStatistics.input_size reports: the shapes the user asked for.
    sizes: Any
    total_bytes: int

    @property
    def without_data(self) -> bool:
        """The forward runs on fake or meta tensors: shapes only, no values."""
        return self.fake or self.device.type == "meta"


def model_device(
    model: nn.Module, attributes: Sequence[Mapping[str, Any]] | None = None
) -> torch.device | None:
    """Where the model's tensors are: the first one's device, or meta when any is
    on meta (a model built under ``torch.device("meta")`` can keep a tensor that
    an old-style constructor put on the CPU; it cannot compute for real anyway).

    ``attributes``: each module's attributes once (``ModuleTree.attributes``:
    their ``_parameters`` and ``_buffers``), when the caller has them;
    otherwise the first tensor decides.
    """
    if attributes is None:
        for tensors in (model.parameters(), model.buffers()):
            for tensor in tensors:
                return tensor.device
        return None
    first: torch.device | None = None
    for own in attributes:
        for held in (own["_parameters"], own["_buffers"]):
            if held:
                for value in held.values():
                    if value is not None:
                        if value.is_meta:
                            return torch.device("meta")
                        first = first or value.device
    return first


def _same_device(a: torch.device, b: torch.device) -> bool:
    if a.type != b.type:
        return False
    return a.index is None or b.index is None or a.index == b.index


def resolve_device(
    model: nn.Module,
    device: torch.device | str | None,
    input_data: InputData,
    attributes: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[torch.device, bool]:
    """The device inputs are built on, and whether to run on fake tensors.

    summaryplus never moves the model: ``device`` must agree with where its
    parameters are, except ``device="meta"`` on a real model, which runs the
    forward on fake tensors (shapes only, nothing computed or allocated).
    """
    requested = parse_device(device)
    held = model_device(model, attributes)
    data_devices = {t.device for t in iter_tensors(input_data)}
    if (
        requested is not None
        and requested.type == "meta"
        and held is not None
        and held.type != "meta"
    ):
        return held, True
    if requested is not None and held is not None and not _same_device(requested, held):
        raise ValueError(
            f"device={str(requested)!r} but the model's parameters are on {held}; "
            "summaryplus never moves a model. Move it first (model.to(...)), pass "
            f"device={str(held)!r}, or device='meta' to summarize without computing."
        )
    target = held or requested
    if target is None:
        target = next(iter(data_devices), torch.device("cpu"))
    if target.type != "meta":
        for data_device in data_devices:
            if not _same_device(data_device, target):
                raise ValueError(
                    f"input_data is on {data_device} but the model is on {target}; "
                    "put both on one device (summaryplus never moves the model)."
                )
    return target, False


def parse_device(device: torch.device | str | None) -> torch.device | None:
    """``device`` as a ``torch.device`` (None stays None).

    Raises:
        DeviceError: a string torch does not read as a device (a ``ValueError``
            and a ``RuntimeError``).
        TypeError: neither a ``torch.device`` nor a string.
    """
    if device is None or isinstance(device, torch.device):
        return device
    if isinstance(device, str):
        try:
            return torch.device(device)
        except RuntimeError as error:
            raise DeviceError(
                f"device={device!r} is not a torch device (e.g. 'cpu', 'cuda:0', 'meta'): "
                f"{error}"
            ) from None
    raise TypeError(f"device must be a torch.device or a str, not {type(device).__name__}")



def normalize_input_size(input_size: Any) -> list[tuple[int, ...]]:
    """``(1, 3, 224, 224)`` -> one input; ``[(1, 10), (1, 5)]`` -> two inputs.

    Raises:
        TypeError, ValueError: naming ``input_size`` and what it accepts.
    """
    accepted = (
        "a shape like (1, 3, 224, 224) / torch.Size, or a list of shapes for "
        "several inputs like [(1, 10), (1, 5)]"
    )
    if not isinstance(input_size, (list, tuple, torch.Size)):
        raise TypeError(f"input_size={input_size!r} is not valid; expected {accepted}")
    items = list(input_size)
    if items and all(_is_int(item) for item in items):
        shapes = [tuple(int(item) for item in items)]
    elif items and all(isinstance(item, (list, tuple, torch.Size)) for item in items):
        shapes = []
        for item in items:
            if not all(_is_int(dim) for dim in item):
                raise TypeError(f"input_size={input_size!r} is not valid; expected {accepted}")
            shapes.append(tuple(int(dim) for dim in item))
    else:
        raise ValueError(f"input_size={input_size!r} is not valid; expected {accepted}")
    for shape in shapes:
        if any(dim < 0 for dim in shape):
            raise ValueError(f"input_size={input_size!r} has a negative dimension")
    return shapes


def _as_passed(input_size: Sequence[Any]) -> list[Any]:
    """What ``ModelStatistics.input_size`` reports, as torchinfo does: the list of
    shapes as the caller wrote them (``[torch.Size([1, 28]), [12]]`` stays so; no
    batch dimension added); one shape is wrapped in a list (a list of ints as a
    tuple: ``[3, 4]`` -> ``[(3, 4)]``)."""
    if all(_is_int(item) for item in input_size):
        return [tuple(input_size)] if isinstance(input_size, list) else [input_size]
    return list(input_size)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def index_bound(modules: Iterable[nn.Module]) -> int:
    """Integer inputs are usually token ids: keep them valid for every embedding."""
    sizes = [
        int(module.num_embeddings)
        for module in modules
        if isinstance(module, (nn.Embedding, nn.EmbeddingBag))
    ]
    return max(1, min(sizes)) if sizes else 2


def random_tensor(
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: torch.device,
    generator: torch.Generator,
    index_bound: int,
) -> torch.Tensor:
    """A tensor of valid values: floats in [0, 1), integers in [0, index_bound)."""
    if device.type == "meta":
        return torch.empty(shape, dtype=dtype, device=device)
    if dtype == torch.bool:
        tensor = torch.randint(0, 2, shape, generator=generator).bool()
    elif dtype.is_floating_point or dtype.is_complex:
        tensor = torch.rand(shape, generator=generator, dtype=torch.float64).to(dtype)
    else:
        tensor = torch.randint(0, index_bound, shape, generator=generator, dtype=torch.int64)
        tensor = tensor.to(dtype)
    return tensor.to(device)


def build_inputs(
    model: nn.Module,
    input_size: Any,
    input_data: InputData,
    batch_dim: int | None,
    dtypes: Sequence[torch.dtype | type] | None,
    device: torch.device | str | None,
    forward_kwargs: Mapping[str, Any],
    modules: Sequence[nn.Module] | None = None,
    copy: bool = False,
    attributes: Sequence[Mapping[str, Any]] | None = None,
) -> ForwardInputs:
    """Turns the user's description of the inputs into forward arguments
    (``modules``: every module once, to bound token ids by the embeddings;
    ``attributes``: each one's attributes, ``ModuleTree.attributes``, to find
    the model's device).

    On a meta model, and with ``copy`` (``copy_inputs=True``), the forward gets
    its own copies of every input object and tensor, so that it cannot change
    the caller's (on fake tensors the capture makes fake copies itself)."""
    target, fake = resolve_device(model, device, input_data, attributes)
    kwargs = {key: _prepare(value, target) for key, value in forward_kwargs.items()}
    if input_size is not None:
        shapes = normalize_input_size(input_size)
        dtype_list = _dtypes_for(shapes, dtypes)
        generator = torch.Generator().manual_seed(_SEED)
        integer = any(
            not (d.is_floating_point or d.is_complex or d == torch.bool) for d in dtype_list
        )
        bound = index_bound(model.modules() if modules is None else modules) if integer else 2
        args: list[Any] = []
        for shape, dtype in zip(shapes, dtype_list, strict=True):
            if batch_dim is not None:
                if not -len(shape) - 1 <= batch_dim <= len(shape):
                    raise ValueError(f"batch_dim={batch_dim} is out of range for shape {shape}")
                shape = _insert(shape, batch_dim)
            args.append(random_tensor(shape, dtype, target, generator, bound))
        sizes: Any = _as_passed(input_size)
    else:
        data = _prepare(input_data, target)
        if isinstance(data, Mapping):
            overlap = set(data) & set(kwargs)
            if overlap:
                raise ValueError(f"input_data and kwargs both give {sorted(overlap)}")
            kwargs = {**dict(data), **kwargs}
            args = []
        elif isinstance(data, list) or (isinstance(data, tuple) and not hasattr(data, "_fields")):
            args = list(data)
        else:
            args = [data]
        sizes = _sizes_of(input_data)
    if target.type == "meta" and not fake:
        args, kwargs = copy_inputs((args, kwargs), _on_meta)
    elif copy and not fake:
        args, kwargs = copy_inputs((args, kwargs), _real_copy)
    return ForwardInputs(
        args=args,
        kwargs=kwargs,
        device=target,
        fake=fake,
        sizes=sizes,
        total_bytes=total_bytes((args, kwargs)),
    )


def _on_meta(tensor: torch.Tensor) -> torch.Tensor:
    return tensor if tensor.is_meta else tensor.to("meta")


def _real_copy(tensor: torch.Tensor) -> torch.Tensor:
    copied = tensor.detach().clone()
    return copied.requires_grad_() if tensor.requires_grad else copied


def _insert(shape: tuple[int, ...], batch_dim: int) -> tuple[int, ...]:
    """Adds a batch dimension of size 1 at ``batch_dim`` (negative counts from the end)."""
    position = batch_dim if batch_dim >= 0 else len(shape) + 1 + batch_dim
    return (*shape[:position], 1, *shape[position:])


def _dtypes_for(
    shapes: list[tuple[int, ...]], dtypes: Sequence[torch.dtype | type] | None
) -> list[torch.dtype]:
    if dtypes is None:
        return [torch.float32] * len(shapes)
    if not isinstance(dtypes, (list, tuple)):
        raise TypeError(
            f"dtypes={dtypes!r} is not valid; expected a list of torch.dtype or tensor "
            "types, one per input, like [torch.float32] or [torch.FloatTensor]"
        )
    dtype_list = [_as_dtype(dtype) for dtype in dtypes]
    if len(dtype_list) == 1 and len(shapes) > 1:
        return dtype_list * len(shapes)
    if len(dtype_list) != len(shapes):
        raise ValueError(
            f"dtypes has {len(dtype_list)} entries but input_size describes "
            f"{len(shapes)} inputs; give one dtype per input"
        )
    return dtype_list


def _as_dtype(dtype: Any) -> torch.dtype:
    """``torch.float32`` as is; a legacy tensor-type class (``torch.LongTensor``,
    ``torch.cuda.HalfTensor``) as the dtype it stands for, as torchinfo accepts.
    Only the dtype is taken: the inputs go where the model is (a ``torch.cuda``
    type does not move them)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    held = getattr(dtype, "dtype", None) if isinstance(dtype, type) else None
    if isinstance(held, torch.dtype):
        return held
    raise TypeError(
        f"dtypes must be a list of torch.dtype or tensor types (torch.FloatTensor), "
        f"got {dtype!r}"
    )


def _prepare(value: Any, device: torch.device) -> Any:
    """Moves real tensors onto a meta model's device. Everything else reaches the
    forward untouched: numpy arrays stay arrays, as in torchinfo."""
    if device.type != "meta":
        return value
    if isinstance(value, torch.Tensor):
        return value if value.device.type == "meta" else value.to("meta")
    if isinstance(value, Mapping):
        return {key: _prepare(item, device) for key, item in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_prepare(v, device) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_prepare(v, device) for v in value)
    return value


def _sizes_of(value: Any) -> Any:
    """The structure of ``input_data`` with every tensor replaced by its shape."""
    if isinstance(value, torch.Tensor):
        # A nested tensor has no torch.Size: its shape with ragged dims named.
        return tensor_shape(value) if value.is_nested else value.size()
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):
        return torch.Size(value.shape)
    if isinstance(value, Mapping):
        return {k: _sizes_of(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sizes_of(v) for v in value]
    return value
