"""Settings accepted by ``summary()``, as enums or as their string values.

The values are torchinfo 1.8.0's, so ``col_names=("num_params",)`` keeps working;
new members are added where summaryplus shows more.
"""

from __future__ import annotations

from enum import Enum, IntEnum, unique


class _StrEnum(str, Enum):
    """A str-valued enum that prints as its value.

    torchinfo's enums mix ``str`` into ``Enum``; on Python 3.11 ``format()`` of such
    a member gives ``Units.MEGABYTES`` instead of ``M``, which is how torchinfo
    ends up printing ``Total mult-adds (Units.MEGABYTES)``.
    """

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)

    @classmethod
    def parse(cls, value: object, argument: str) -> _StrEnum:
        """Converts ``value`` to a member, or raises a ValueError naming ``argument``."""
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            accepted = ", ".join(repr(member.value) for member in cls)
            raise ValueError(
                f"{argument}={value!r} is not valid; accepted values: {accepted}"
            ) from None


@unique
class Mode(_StrEnum):
    """Which mode the model runs in during the summary's forward pass."""

    TRAIN = "train"
    EVAL = "eval"
    # Leave every module's training flag as it is (newer torchinfo).
    SAME = "same"


@unique
class RowSettings(_StrEnum):
    """What a row shows besides the class name."""

    DEPTH = "depth"
    VAR_NAMES = "var_names"
    ASCII_ONLY = "ascii_only"
    HIDE_RECURSIVE_LAYERS = "hide_recursive_layers"


@unique
class ColumnSettings(_StrEnum):
    """The columns of the text table, in the order the user lists them."""

    KERNEL_SIZE = "kernel_size"
    GROUPS = "groups"
    INPUT_SIZE = "input_size"
    OUTPUT_SIZE = "output_size"
    NUM_PARAMS = "num_params"
    PARAMS_PERCENT = "params_percent"
    MULT_ADDS = "mult_adds"
    FLOPS = "flops"
    MEMORY = "memory"
    TRAINABLE = "trainable"
    # Bytes the ops read and wrote (eager); FLOPs per fused byte (docs/numbers.md).
    BYTES = "bytes"
    INTENSITY = "intensity"


@unique
class Units(_StrEnum):
    """Scale used to print a count: ``(K)``, ``(M)``, ``(G)``, ``(T)`` or none."""

    AUTO = "auto"
    KILOBYTES = "K"
    MEGABYTES = "M"
    GIGABYTES = "G"
    TERABYTES = "T"
    NONE = ""


@unique
class Verbosity(IntEnum):
    """0: print nothing; 1: print the table; 2: also one row per weight tensor."""

    QUIET = 0
    DEFAULT = 1
    VERBOSE = 2
