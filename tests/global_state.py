"""The process-wide state a test could leave changed, taken before and after
each test by ``conftest.py`` so that the suite passes in any order and every
module passes alone: a test that leaks fails, naming what it changed, and the
state is put back for the next test.

Checked (a change fails the test): the formula registry, torch's default dtype
and device, grad and inference mode, anomaly detection, deterministic
algorithms, intra-op threads, torch.distributions' argument validation, the
dispatch and function mode stacks, torch's print options, the recursion limit,
the garbage collector, logging (every logger that existed before the test:
level, handlers, propagate, disabled; and ``logging.disable``), the warnings
filters, the environment and the working directory.

Changes that come with a module imported for the first time during the test
(an environment variable or warnings filter added, a new logger, the loggers
of the imported package set up) are kept and do not fail it: they happen once
per process, in whichever test comes first.
The RNG states (torch's CPU generator and Python's ``random``), which any
test that draws numbers moves, are put back without failing, and each test
starts from torch seeded with ``SEED`` (``start``), so no test depends on what
ran or was collected before it.
"""

from __future__ import annotations

import copy
import gc
import logging
import os
import random
import sys
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch.distributions import Distribution

from summaryplus.formulas import registry


def _is_pytests(handler: logging.Handler) -> bool:
    # pytest's capture handlers are new objects in every phase of a test.
    return type(handler).__module__.startswith("_pytest")


def _loggers() -> dict[str, tuple[Any, ...]]:
    loggers: dict[str, logging.Logger] = {"": logging.getLogger()}
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            loggers[name] = logger
    return {
        name: (
            logger.level,
            tuple(h for h in logger.handlers if not _is_pytests(h)),
            logger.propagate,
            logger.disabled,
        )
        for name, logger in loggers.items()
    }


def _set_loggers(found: dict[str, tuple[Any, ...]]) -> None:
    for name, (level, handlers, propagate, disabled) in found.items():
        logger = logging.getLogger(name or None)
        pytests = [h for h in logger.handlers if _is_pytests(h)]
        logger.setLevel(level)
        logger.handlers = [*handlers, *pytests]
        logger.propagate, logger.disabled = propagate, disabled


def _logging_disabled() -> int:
    return logging.root.manager.disable


def _print_options() -> dict[str, Any]:
    return dict(vars(torch._tensor_str.PRINT_OPTS))


def _set_print_options(found: dict[str, Any]) -> None:
    vars(torch._tensor_str.PRINT_OPTS).update(found)


def _environment() -> dict[str, str]:
    found = dict(os.environ)
    found.pop("PYTEST_CURRENT_TEST", None)  # pytest's own, set in every phase
    return found


def _set_environment(found: dict[str, str]) -> None:
    for name in set(_environment()) - set(found):
        del os.environ[name]
    os.environ.update(found)


def _set_inference_mode(found: bool) -> None:
    del found  # only a context left entered changes it: reported, not undone


def _pop_dispatch_modes(found: int) -> None:
    from torch.utils._python_dispatch import _pop_mode

    while torch._C._len_torch_dispatch_stack() > found:
        _pop_mode()


def _pop_function_modes(found: int) -> None:
    while torch._C._len_torch_function_stack() > found:
        torch._C._pop_torch_function_stack()


def _set_warning_filters(found: list[Any]) -> None:
    warnings.filters[:] = found
    warnings._filters_mutated()  # type: ignore[attr-defined]


# name -> (read, write back). Writers are called only for what changed.
_CHECKED: dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]] = {
    "the formula registry": (
        lambda: dict(registry._REGISTRY),
        lambda found: (registry._REGISTRY.clear(), registry._REGISTRY.update(found)),
    ),
    "torch's default dtype": (torch.get_default_dtype, torch.set_default_dtype),
    "torch's default device": (torch.get_default_device, torch.set_default_device),
    "grad mode": (torch.is_grad_enabled, torch.set_grad_enabled),
    "inference mode": (torch.is_inference_mode_enabled, _set_inference_mode),
    "anomaly detection": (torch.is_anomaly_enabled, torch.set_anomaly_enabled),
    "deterministic algorithms": (
        torch.are_deterministic_algorithms_enabled, torch.use_deterministic_algorithms,
    ),
    "torch's intra-op threads": (torch.get_num_threads, torch.set_num_threads),
    "torch.distributions' default validate_args": (
        lambda: Distribution._validate_args, Distribution.set_default_validate_args,
    ),
    "the dispatch mode stack": (torch._C._len_torch_dispatch_stack, _pop_dispatch_modes),
    "the function mode stack": (torch._C._len_torch_function_stack, _pop_function_modes),
    "torch's print options": (_print_options, _set_print_options),
    "the recursion limit": (sys.getrecursionlimit, sys.setrecursionlimit),
    "the garbage collector": (gc.isenabled, lambda on: gc.enable() if on else gc.disable()),
    "logging's loggers": (_loggers, _set_loggers),
    "logging.disable": (_logging_disabled, logging.disable),
    "the warnings filters": (lambda: list(warnings.filters), _set_warning_filters),
    "the environment": (_environment, _set_environment),
    "the working directory": (os.getcwd, os.chdir),
}


SEED = 0


def start() -> None:
    """Every test's torch RNG starts from one fixed seed, whatever ran before."""
    torch.manual_seed(SEED)


def snapshot() -> dict[str, Any]:
    """Everything checked, as found now, with the RNG states and the modules
    imported so far."""
    found = {name: read() for name, (read, _) in _CHECKED.items()}
    found["rng"] = (torch.get_rng_state(), random.getstate())
    found["modules"] = set(sys.modules)
    found["transformers handler"] = _transformers_handler()
    return found


def _only_added(before: Any, after: Any) -> bool:
    """``after`` is ``before`` with entries added and none changed or removed."""
    if isinstance(before, dict):
        return all(key in after and after[key] == value for key, value in before.items())
    return isinstance(before, list) and all(item in after for item in before)


# What a module's import may add, once per process, whichever test imports it
# first: torch._dynamo sets TORCHINDUCTOR_CACHE_DIR, sympy adds a "once" filter
# for its deprecation warnings. (pytest puts the warnings filters back after
# every test anyway: it runs each test inside one warnings.catch_warnings.)
_IMPORTS_MAY_ADD = frozenset({"the environment", "the warnings filters"})


def _torch_trace_initialized(before: Any, after: Any) -> bool:
    """torch's structured-trace logger drops its ``LazyTraceHandler`` the first
    time the process traces (``torch.export``, ``torch.compile``): torch's
    one-time set-up, not the test's."""
    if before is None or after is None:
        return False
    lazy = [h for h in before[1] if type(h).__name__ == "LazyTraceHandler"]
    kept = tuple(h for h in before[1] if h not in lazy)
    return bool(lazy) and after == (before[0], kept, *before[2:])


def _transformers_handler() -> Any:
    """The handler transformers adds to its root logger the first time it logs
    (None until then, or without transformers)."""
    module = sys.modules.get("transformers.utils.logging")
    return getattr(module, "_default_handler", None)


def _transformers_configured(before: Any, after: Any, handler_before: Any) -> bool:
    """transformers set up its own root logger during the test (its handler
    added, its level set): the library's one-time set-up, not the test's."""
    handler = _transformers_handler()
    if before is None or after is None or handler_before is not None or handler is None:
        return False
    return after[1] == (*before[1], handler) and after[2:] == before[2:]


def _loggers_changed(
    before: dict[str, Any], after: dict[str, Any], imported: set[str],
    transformers_handler: Any = None,
) -> list[str]:
    """Loggers whose state changed, but for those of a package with modules
    imported during the test (a library's first import sets up its own
    loggers), which are kept, torch's one-time trace set-up and transformers'
    set-up of its own root logger. Loggers made during the test are new, not
    changed."""
    return [
        name
        for name, state in before.items()
        if after.get(name) != state
        and (not name or name.split(".")[0] not in imported)
        and not (name == "torch.__trace" and _torch_trace_initialized(state, after.get(name)))
        # (Its level is the suite's: TRANSFORMERS_VERBOSITY, set in conftest.py;
        # the model helpers' set_verbosity_error() once changed it mid-suite.)
        and not (
            name == "transformers"
            and _transformers_configured(state, after.get(name), transformers_handler)
        )
    ]


def dynamo_patched() -> bool:
    """True once torch's dynamo has run its one-time patch (the first
    ``torch.compile`` or ``torch.export`` of the process), which turns
    torch.distributions' validation off for good: torch's side effect, not
    the test's."""
    eval_frame = sys.modules.get("torch._dynamo.eval_frame")
    patch = getattr(getattr(eval_frame, "TorchPatcher", None), "patch", None)
    info = getattr(patch, "cache_info", None)
    return info is not None and info().currsize > 0


def restore(before: dict[str, Any], *, dynamo_patched_before: bool) -> list[str]:
    """Puts back everything that differs from ``before``; returns a line for
    each checked setting that had changed (the RNG states are put back always
    and never reported)."""
    torch.set_rng_state(before["rng"][0])
    random.setstate(before["rng"][1])
    new_modules = set(sys.modules) - before["modules"]
    imported = bool(new_modules)
    packages = {module.split(".")[0] for module in new_modules}
    leaked = []
    for name, (read, write) in _CHECKED.items():
        now = read()
        if now == before[name]:
            continue
        if name in _IMPORTS_MAY_ADD and imported and _only_added(before[name], now):
            continue  # a library's import, not the test: kept, as the module expects
        elif name == "logging's loggers":
            changed = _loggers_changed(
                before[name], now, packages, before["transformers handler"]
            )
            if changed:
                leaked.append(f"{name}: " + ", ".join(
                    f"{logger or 'root'} {_logger_change(before[name][logger], now[logger])}"
                    for logger in sorted(changed)
                ))
                write({logger: before[name][logger] for logger in changed})
            continue
        elif name == "torch.distributions' default validate_args" and (
            not dynamo_patched_before and dynamo_patched()
        ):
            pass  # torch's own one-time patch: put back, not the test's leak
        else:
            leaked.append(f"{name}: {_describe_change(before[name], now)}")
        write(copy.copy(before[name]))
    return leaked


def _logger_change(before: tuple[Any, ...], after: tuple[Any, ...]) -> str:
    fields = ("level", "handlers", "propagate", "disabled")
    return "(" + "; ".join(
        f"{field} {_short(old)} -> {_short(new)}"
        for field, old, new in zip(fields, before, after, strict=True)
        if old != new
    ) + ")"


def _describe_change(before: Any, after: Any) -> str:
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(
            str(key) for key in before.keys() | after.keys() if before.get(key) != after.get(key)
        )
        return f"{', '.join(keys[:8])}{' ...' if len(keys) > 8 else ''} changed"
    return f"{_short(before)} before, {_short(after)} after"


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return f"{len(value)} items"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
