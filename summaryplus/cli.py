"""The ``summaryplus`` command (argparse, thin over the library)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    import torch

    from .api import summary
    from .examples import SmallCNN, TinyGPT

    print("SmallCNN at (8, 3, 32, 32), eval mode:")
    summary(SmallCNN(), input_size=(8, 3, 32, 32), verbose=1, depth=args.depth,
            col_names=("output_size", "num_params", "mult_adds"))
    print("\nTinyGPT at (2, 64) token ids, train mode (activations measured):")
    summary(TinyGPT(), input_size=(2, 64), dtypes=[torch.long], mode="train", verbose=1,
            depth=args.depth, col_names=("output_size", "num_params", "mult_adds", "memory"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="summaryplus",
        description="Summarize PyTorch models: parameters, exact MACs/FLOPs, memory.",
        epilog="example: summaryplus demo",
    )
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="summarize the built-in example models")
    demo.add_argument("--depth", type=int, default=3, help="deepest level shown (default 3)")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 2
    result: int = args.run(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
