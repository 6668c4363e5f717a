"""A separate interpreter that runs one hostile read at a time within a budget.

Started by ``tests/test_hostile_*.py`` (the ``bounded`` fixture). It imports
torch and summaryplus once, caps its address space (a read that tried to
inflate a bomb dies with MemoryError here, not on the test machine), then for
each request (a JSON line: ``{"call": "module:function", "args": [...]}``)
resets the peak-RSS counter, calls the function, and answers one JSON line:
the exception's type and message (or ``"ok"`` and a short repr of the
result), the CPU seconds spent and the peak RSS above the interpreter's
before the call, in MB.
"""

from __future__ import annotations

import importlib
import json
import re
import resource
import sys
import time
import traceback
from typing import Any

import torch  # noqa: F401  (loaded before the baseline is measured)

import summaryplus
import summaryplus.checkpoints
import summaryplus.exported  # noqa: F401

_HEADROOM = 2 << 30  # address space beyond the interpreter's, as a safety net


def _status(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        match = re.search(rf"{field}:\s+(\d+) kB", handle.read())
    return int(match.group(1)) * 1024 if match else 0


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
        handle.write("5")


def _call(spec: str, args: list[Any]) -> Any:
    module_name, _, function_name = spec.partition(":")
    function: Any = importlib.import_module(module_name)
    for part in function_name.split("."):
        function = getattr(function, part)
    return function(*args)


def main() -> None:
    size = _status("VmSize")
    if size:
        resource.setrlimit(resource.RLIMIT_AS, (size + _HEADROOM, size + _HEADROOM))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        _reset_peak()
        baseline = _status("VmRSS")
        started = time.process_time()
        answer: dict[str, Any]
        try:
            result = _call(request["call"], request["args"])
            answer = {"error": None, "result": repr(result)[:2000]}
        except BaseException as error:  # everything is reported, MemoryError included
            answer = {
                "error": type(error).__name__,
                "message": str(error)[:2000],
                "traceback": traceback.format_exc()[-3000:],
            }
        answer["cpu_s"] = time.process_time() - started
        answer["peak_mb"] = max(0, _status("VmHWM") - baseline) / 2**20
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
