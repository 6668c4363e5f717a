"""Recording ``forward`` wrappers on module instances.

A module's ``forward`` is looked up on the instance first, so a function stored
in ``module.__dict__["forward"]`` runs for every call of the module: one Python
call per module call, against the four of a forward pre/post hook pair, and
nothing to register with torch (registering and removing 30,000 hooks takes
longer than running a 15,000-module model).

Summaries may run in several threads at once, on one model or several. Each
module gets one wrapper while any summary uses it; the wrapper hands a call to
the listener (a ``Recorder``) of the calling thread, if that thread is running a
summary, and passes it straight through otherwise. The listener itself ignores
modules of other models. The last summary to finish puts the module's own
``forward`` attribute back (or none, as before).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from threading import get_ident
from typing import Any, Protocol

from torch import nn

from ..layer_info import LayerInfo

_MISSING = object()


class Listener(Protocol):
    """What a wrapper tells about each module call of its thread."""

    def enter(self, module: nn.Module, args: Any, kwargs: Any) -> LayerInfo | None:
        """The call's row, or None for a module the listener does not record."""

    def leave(self, row: LayerInfo, output: Any) -> None: ...

    def fail(self, row: LayerInfo, inputs: Any, error: BaseException) -> None: ...


# Thread id -> the enter/leave/fail methods of the listener of the summary
# running in that thread (bound once per summary, not once per call).
_Methods = tuple[Any, Any, Any]
_listeners: dict[int, _Methods] = {}
_lock = threading.Lock()
# id(module) -> [module, its wrapper, its previous instance forward, summaries using it].
_wrappers: dict[int, list[Any]] = {}


def _recording_forward(module: nn.Module, forward: Any) -> Any:
    def recorded_forward(*args: Any, **kwargs: Any) -> Any:
        methods = _listeners.get(get_ident())
        if methods is None:
            return forward(*args, **kwargs)
        enter, leave, fail = methods
        row = enter(module, args, kwargs)
        if row is None:
            return forward(*args, **kwargs)
        try:
            output = forward(*args, **kwargs)
        except BaseException as error:
            fail(row, (args, kwargs) if kwargs else args, error)
            raise
        leave(row, output)
        return output

    # inspect.signature() follows __wrapped__: code that reads the signature of
    # a module's forward (transformers does) sees the real one.
    recorded_forward.__wrapped__ = forward  # type: ignore[attr-defined]
    return recorded_forward


def _uninstall(module: nn.Module, wrapper: Any, previous: Any) -> None:
    attributes = module.__dict__
    if attributes.get("forward") is not wrapper:
        return  # the model replaced it itself: its own change, kept
    if previous is _MISSING:
        del attributes["forward"]
    else:
        attributes["forward"] = previous


class Wrapped:
    """One summary's use of the wrappers: its listener, in the calling thread."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.thread_id = get_ident()
        # The listener this one displaces: a summary run from inside the
        # forward of another one in the same thread, put back on release.
        self._displaced: _Methods | None = None
        self._held: list[list[Any]] = []

    def wrap(self, modules: Iterable[nn.Module]) -> list[nn.Module]:
        """Wraps ``modules`` and starts listening; returns the modules that cannot
        be wrapped (a class whose ``forward`` is a property, say)."""
        refused = []
        held = self._held
        with _lock:
            for module in modules:
                entry = _wrappers.get(id(module))
                if entry is None:
                    attributes = module.__dict__
                    previous = attributes.get("forward", _MISSING)
                    wrapper = attributes["forward"] = _recording_forward(module, module.forward)
                    if module.forward is not wrapper:
                        _uninstall(module, wrapper, previous)
                        refused.append(module)
                        continue
                    entry = _wrappers[id(module)] = [module, wrapper, previous, 0]
                entry[3] += 1
                held.append(entry)
            self._displaced = _listeners.get(self.thread_id)
            listener = self.listener
            _listeners[self.thread_id] = (listener.enter, listener.leave, listener.fail)
        return refused

    def release(self) -> None:
        with _lock:
            if self._displaced is not None:
                _listeners[self.thread_id] = self._displaced
            else:
                _listeners.pop(self.thread_id, None)
            for entry in self._held:
                entry[3] -= 1
                if entry[3] == 0:
                    module, wrapper, previous, _ = entry
                    _uninstall(module, wrapper, previous)
                    del _wrappers[id(module)]
            self._held.clear()
