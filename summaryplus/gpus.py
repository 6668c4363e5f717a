"""The hardware table: memory, usable memory, memory bandwidth and dense peak
compute per dtype of common accelerators, each row citing its source.

Figures are the vendors' **dense** ones (never the 2:4-sparse figure printed
beside them); GeForce cards' bf16/fp16 and fp8 are their rates with FP32
accumulate (half the FP16-accumulate figure), which is what PyTorch's matmuls
use. ``memory`` is the capacity the datasheet names (GB figures of HBM/GDDR are
binary); ``usable`` is what a process can allocate: the total the driver
reports, less 512 MiB for the CUDA context. Apple M-series rows give bandwidth
only (Apple publishes no peak FLOP/s); their usable memory is 75% of the unified
memory (macOS's default GPU working-set limit).

A user's own GPU: ``parse_gpu_spec("name=X,bandwidth=2e12,bf16=400e12,memory=48e9")``
or ``load_gpu_spec(path)`` (a JSON object with the same keys).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

__all__ = [
    "DTYPES",
    "GPU",
    "GPUS",
    "HARDWARE",
    "PLAN_GPUS",
    "get_gpu",
    "gpu_names",
    "load_gpu_spec",
    "parse_gpu_spec",
    "peak_key",
]

_GIB = 2**30
_MIB = 2**20
_CONTEXT = 512 * _MIB  # the CUDA context and driver reserve a process never gets
_T = 1e12

#: The dtypes a row may give a dense peak for (FLOP/s; int8 in OP/s).
DTYPES = ("fp32", "tf32", "bf16", "fp8", "int8")


@dataclass(frozen=True)
class GPU:
    """One accelerator.

    Attributes:
        key: the name to ask for it by (``"h100-sxm"``).
        name: the product's name (``"H100 SXM 80GB"``).
        memory: bytes of memory the datasheet names.
        usable: bytes a process can allocate (the driver's total less the context).
        bandwidth: memory bandwidth, bytes/s.
        peaks: dense peak per dtype (``DTYPES``), FLOP/s; a dtype the card has
            no tensor-core rate for (fp8 before Hopper/Ada) or whose peak the
            vendor does not publish is absent.
        source: where the figures come from (datasheet URL and notes).
    """

    key: str
    name: str
    memory: int
    usable: int
    bandwidth: float
    peaks: Mapping[str, float] = field(default_factory=dict)
    source: str = ""

    @property
    def bytes(self) -> int:
        """Usable bytes: what a plan fits against."""
        return self.usable

    @property
    def cards(self) -> str:
        return self.name

    def peak(self, dtype: str) -> float | None:
        """Dense peak FLOP/s for ``dtype`` (a ``DTYPES`` name or a torch dtype
        name such as ``"bfloat16"``), or None when the row has none."""
        return self.peaks.get(peak_key(dtype))

    def ridge_point(self, dtype: str) -> float | None:
        """FLOPs per byte above which an op is compute bound on this card."""
        peak = self.peak(dtype)
        return None if peak is None else peak / self.bandwidth

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key, "name": self.name, "memory": self.memory, "usable": self.usable,
            "bandwidth": self.bandwidth, "peaks": dict(self.peaks), "source": self.source,
        }  # fmt: skip


def peak_key(dtype: str) -> str:
    """The ``DTYPES`` name a torch dtype name computes at: ``"bfloat16"`` and
    ``"float16"`` -> ``"bf16"``, ``"float8_e4m3fn"`` -> ``"fp8"``, ``"int8"`` and
    ``"uint8"`` -> ``"int8"``, ``"float32"`` -> ``"fp32"``; a ``DTYPES`` name as is.

    Raises:
        ValueError: a name that is none of these.
    """
    name = dtype.removeprefix("torch.")
    if name in DTYPES:
        return name
    if name in ("bfloat16", "float16", "half", "fp16"):
        return "bf16"
    if name.startswith("float8") or name == "fp8":
        return "fp8"
    if name in ("int8", "uint8", "int4", "quint8", "qint8"):
        return "int8"
    if name in ("float32", "float", "float64", "double", "complex64", "complex128"):
        return "fp32"
    raise ValueError(f"dtype={dtype!r} is not valid; accepted values: {', '.join(DTYPES)} "
                     "or a torch dtype name (bfloat16, float8_e4m3fn, ...)")


def _gpu(
    key: str, name: str, memory_gb: float, reported_mib: int, bandwidth_gbs: float,
    tflops: tuple[float | None, ...], source: str,
) -> GPU:  # fmt: skip
    peaks = {dtype: value * _T for dtype, value in zip(DTYPES, tflops, strict=True) if value}
    return GPU(
        key=key, name=name, memory=round(memory_gb * _GIB),
        usable=reported_mib * _MIB - _CONTEXT, bandwidth=bandwidth_gbs * 1e9,
        peaks=MappingProxyType(peaks), source=source,
    )  # fmt: skip


def _apple(key: str, name: str, memory_gb: int, bandwidth_gbs: float, source: str) -> GPU:
    return GPU(
        key=key, name=name, memory=memory_gb * _GIB, usable=memory_gb * _GIB * 3 // 4,
        bandwidth=bandwidth_gbs * 1e9, peaks=MappingProxyType({}), source=source,
    )  # fmt: skip


# (key, name, memory GB, driver total MiB, bandwidth GB/s,
#  dense TFLOPS: fp32, tf32, bf16/fp16, fp8, int8 (TOPS))
HARDWARE: tuple[GPU, ...] = (
    _gpu("h100-sxm", "H100 SXM 80GB", 80, 81_559, 3_350, (67, 494.7, 989.4, 1_978.9, 1_978.9),
         "https://www.nvidia.com/en-us/data-center/h100/ (datasheet: 3.35 TB/s; TF32 989, "
         "BF16 1,979, FP8 3,958, INT8 3,958 with sparsity, halved; dense figures of the "
         "Hopper whitepaper)"),
    _gpu("h100-pcie", "H100 PCIe 80GB", 80, 81_559, 2_000, (51, 378, 756, 1_513, 1_513),
         "https://www.nvidia.com/en-us/data-center/h100/ (datasheet, PCIe column: 2 TB/s; "
         "TF32 756, BF16 1,513, FP8 3,026, INT8 3,026 with sparsity, halved)"),
    _gpu("h200", "H200 SXM 141GB", 141, 143_771, 4_800, (67, 494.7, 989.4, 1_978.9, 1_978.9),
         "https://www.nvidia.com/en-us/data-center/h200/ (datasheet: 141 GB, 4.8 TB/s; "
         "compute as H100 SXM, sparse figures halved)"),
    _gpu("b200", "B200 180GB", 180, 184_320, 8_000, (75, 1_125, 2_250, 4_500, 4_500),
         "https://www.nvidia.com/en-us/data-center/hgx/ (HGX B200 8-GPU: 1.44 TB, 64 TB/s, "
         "so 8 TB/s a GPU; "
         "TF32 18 PF, FP16/BF16 36 PF, FP8 72 PF, INT8 72 POPS with sparsity; FP32 600 TF; "
         "per GPU, sparse halved; driver total approximate)"),
    _gpu("a100-40gb", "A100 SXM 40GB", 40, 40_960, 1_555, (19.5, 156, 312, None, 624),
         "https://www.nvidia.com/en-us/data-center/a100/ (datasheet: 1,555 GB/s; FP32 19.5, "
         "TF32 156, BF16 312, INT8 624 dense; no FP8)"),
    _gpu("a100-80gb-sxm", "A100 SXM 80GB", 80, 81_920, 2_039, (19.5, 156, 312, None, 624),
         "https://www.nvidia.com/en-us/data-center/a100/ (datasheet: 2,039 GB/s; dense "
         "FP32 19.5, TF32 156, BF16 312, INT8 624; no FP8)"),
    _gpu("a100-80gb-pcie", "A100 PCIe 80GB", 80, 81_920, 1_935, (19.5, 156, 312, None, 624),
         "https://www.nvidia.com/en-us/data-center/a100/ (datasheet: 1,935 GB/s; dense "
         "FP32 19.5, TF32 156, BF16 312, INT8 624; no FP8)"),
    _gpu("l4", "L4 24GB", 24, 23_034, 300, (30.3, 60, 121, 242.5, 242.5),
         "https://www.nvidia.com/en-us/data-center/l4/ (datasheet: 300 GB/s; FP32 30.3; "
         "TF32 120, BF16 242, FP8 485, INT8 485 with sparsity, halved)"),
    _gpu("l40s", "L40S 48GB", 48, 46_068, 864, (91.6, 183, 362.05, 733, 733),
         "https://www.nvidia.com/en-us/data-center/l40s/ (datasheet: 864 GB/s; FP32 91.6; "
         "dense TF32 183, BF16 362.05, FP8 733, INT8 733)"),
    _gpu("a10g", "A10G 24GB", 24, 23_028, 600, (35, 35, 70, None, 140),
         "https://www.baseten.co/blog/nvidia-a10-vs-a10g-for-ml-model-inference/ (AWS's "
         "variant of the A10, no NVIDIA datasheet: 600 GB/s; FP32 35, TF32 35, BF16 70, "
         "INT8 140 dense)"),
    _gpu("rtx-4090", "GeForce RTX 4090", 24, 24_564, 1_008, (82.6, 82.6, 165.2, 330.3, 660.6),
         "https://images.nvidia.com/aem-dam/Solutions/geforce/ada/nvidia-ada-gpu-architecture.pdf "
         "(Ada whitepaper: 1,008 GB/s; FP32 82.6; dense TF32 82.6, FP16/BF16 with FP32 "
         "accumulate 165.2, FP8 with FP32 accumulate 330.3, INT8 660.6)"),
    _gpu("rtx-5090", "GeForce RTX 5090", 32, 32_607, 1_792, (104.8, 104.8, 209.5, 419, 838),
         "https://www.nvidia.com/en-us/geforce/graphics-cards/50-series/rtx-5090/ (1,792 GB/s; "
         "FP32 104.8; Blackwell GeForce whitepaper: FP16 838 sparse with FP16 accumulate; "
         "dense with FP32 accumulate: BF16 209.5, FP8 419; INT8 838 dense)"),
    _gpu("mi300x", "Instinct MI300X 192GB", 192, 196_592, 5_300,
         (163.4, 653.7, 1_307.4, 2_614.9, 2_614.9),
         "https://www.amd.com/en/products/accelerators/instinct/mi300/mi300x.html (datasheet: "
         "5.3 TB/s; dense matrix FP32 163.4, TF32 653.7, FP16/BF16 1,307.4, FP8 2,614.9, "
         "INT8 2,614.9)"),
    _apple("m2-ultra", "Apple M2 Ultra (192GB)", 192, 800,
           "https://www.apple.com/newsroom/2023/06/apple-introduces-m2-ultra/ (800 GB/s; "
           "no peak FLOP/s published)"),
    _apple("m3-max", "Apple M3 Max (128GB)", 128, 400,
           "https://www.apple.com/newsroom/2023/10/apple-unveils-m3-m3-pro-and-m3-max/ "
           "(400 GB/s; no peak FLOP/s published)"),
    _apple("m4-max", "Apple M4 Max (128GB)", 128, 546,
           "https://www.apple.com/newsroom/2024/10/apple-introduces-m4-pro-and-m4-max/ "
           "(546 GB/s; no peak FLOP/s published)"),
)  # fmt: skip

_BY_KEY = {gpu.key: gpu for gpu in HARDWARE}

#: The GPUs ``plan`` checks by default: one per common memory size.
PLAN_GPUS: tuple[GPU, ...] = tuple(
    _BY_KEY[key] for key in ("l4", "a100-40gb", "l40s", "h100-sxm", "h200", "b200", "mi300x")
)
#: Kept under the old name: the GPUs a plan fits against.
GPUS = PLAN_GPUS


def gpu_names() -> list[str]:
    """The keys of every row of the table."""
    return list(_BY_KEY)


def get_gpu(gpu: str | GPU) -> GPU:
    """The row named ``gpu`` (its key, case and ``_``/space insensitive), or
    ``gpu`` itself when it is a ``GPU``.

    Raises:
        ValueError: no row has that name (the message lists them).
    """
    if isinstance(gpu, GPU):
        return gpu
    if not isinstance(gpu, str):
        raise TypeError(f"gpu must be a name or a GPU, got {type(gpu).__name__}")
    key = re.sub(r"[\s_]+", "-", gpu.strip().lower())
    found = _BY_KEY.get(key)
    if found is None:
        raise ValueError(f"gpu={gpu!r} is not valid; accepted values: {', '.join(_BY_KEY)} "
                         "(or a GPU from parse_gpu_spec/load_gpu_spec)")
    return found


_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15}
_NUMBER = re.compile(
    r"^\s*([0-9.]+(?:e[+-]?[0-9]+)?)\s*([kmgtp]?)\s*(?:b/s|b|flops|flop/s|ops)?\s*$",
    re.IGNORECASE,
)


def _number(text: object, key: str) -> float:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        match = _NUMBER.match(str(text))
        if match is None:
            raise ValueError(f"gpu spec {key}={text!r} is not a number "
                             "(plain, or with k/M/G/T/P: 3.35T, 989e12)")
        value = float(match.group(1)) * _SUFFIX[match.group(2).lower()]
    if not value > 0:
        raise ValueError(f"gpu spec {key}={text!r} must be > 0")
    return value


def _spec(fields: Mapping[str, object]) -> GPU:
    known = {"name", "key", "memory", "usable", "bandwidth", "source", *DTYPES}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(f"gpu spec: unknown key(s) {', '.join(unknown)}; accepted: "
                         f"{', '.join(sorted(known))}")
    if "name" not in fields or "bandwidth" not in fields:
        raise ValueError("gpu spec needs at least name= and bandwidth= (bytes/s)")
    name = str(fields["name"])
    memory = round(_number(fields["memory"], "memory")) if "memory" in fields else 0
    usable = round(_number(fields["usable"], "usable")) if "usable" in fields else memory
    peaks = {dtype: _number(fields[dtype], dtype) for dtype in DTYPES if dtype in fields}
    return GPU(
        key=str(fields.get("key", name)), name=name, memory=memory, usable=usable,
        bandwidth=_number(fields["bandwidth"], "bandwidth"), peaks=MappingProxyType(peaks),
        source=str(fields.get("source", "given by the user")),
    )  # fmt: skip


def parse_gpu_spec(text: str) -> GPU:
    """A GPU from ``name=...,bandwidth=...,bf16=...`` (bandwidth in bytes/s, peaks
    in FLOP/s, memory in bytes; numbers may end in k/M/G/T/P).

    Example:
        >>> gpu = parse_gpu_spec("name=mine,bandwidth=2T,bf16=400T,memory=48G")
        >>> gpu.bandwidth, gpu.peak("bfloat16"), gpu.memory
        (2000000000000.0, 400000000000000.0, 48000000000)

    Raises:
        ValueError: a part without ``=``, an unknown key, a bad number, no
            name or bandwidth.
    """
    fields: dict[str, object] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"gpu spec part {part!r} is not key=value")
        fields[key.strip().lower()] = value.strip()
    return _spec(fields)


def load_gpu_spec(path: str | Path) -> GPU:
    """A GPU from a JSON file holding one object with ``parse_gpu_spec``'s keys.

    Raises:
        ValueError: not a JSON object, or a bad spec.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a GPU spec file holds one JSON object")
    return _spec({str(key).lower(): value for key, value in data.items()})
