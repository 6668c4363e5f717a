"""Recording ``forward`` wrappers on module instances.

A module's ``forward`` is looked up on the instance first, so a function stored
in ``module.__dict__["forward"]`` runs for every call of the module: one Python
call per module call, against the four of a forward pre/post hook pair, and
nothing to register with torch (registering and removing 30,000 hooks takes
longer than running a 15,000-module model).

One wrapper per module serves every summary running at the time, each in its own
thread: it hands the call to the listener of the calling thread (a ``Recorder``)
and passes calls from any other thread straight through. The last summary to
finish puts the module's own ``forward`` attribute back (or none, as before).
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

    def enter(self, module: nn.Module, args: Any, kwargs: Any) -> LayerInfo | None: ...

    def leave(self, row: LayerInfo, output: Any) -> None: ...

    def fail(self, row: LayerInfo, inputs: Any, error: BaseException) -> None: ...


class _Wrapper:
    """The wrapper on one module, with the listeners (thread id -> listener) it serves."""

    __slots__ = ("function", "listeners", "module", "previous")

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.previous = module.__dict__.get("forward", _MISSING)
        self.listeners: dict[int, Listener] = {}
        self.function = _recording_forward(module, module.forward, self.listeners)

    def install(self) -> bool:
        """False (and nothing changed) where the class does not let an instance
        attribute shadow ``forward`` (a property, say)."""
        self.module.__dict__["forward"] = self.function
        if self.module.forward is self.function:
            return True
        self.uninstall()
        return False

    def uninstall(self) -> None:
        attributes = self.module.__dict__
        if attributes.get("forward") is not self.function:
            return  # the model replaced it itself: its own change, kept
        if self.previous is _MISSING:
            del attributes["forward"]
        else:
            attributes["forward"] = self.previous


def _recording_forward(
    module: nn.Module, forward: Any, listeners: dict[int, Listener]
) -> Any:
    def recorded_forward(*args: Any, **kwargs: Any) -> Any:
        listener = listeners.get(get_ident())
        row = None if listener is None else listener.enter(module, args, kwargs)
        if row is None:
            return forward(*args, **kwargs)
        try:
            output = forward(*args, **kwargs)
        except BaseException as error:
            listener.fail(row, (args, kwargs) if kwargs else args, error)  # type: ignore[union-attr]
            raise
        listener.leave(row, output)  # type: ignore[union-attr]
        return output

    # inspect.signature() follows __wrapped__: code that reads the signature of
    # a module's forward (transformers does) sees the real one.
    recorded_forward.__wrapped__ = forward  # type: ignore[attr-defined]
    return recorded_forward


_lock = threading.Lock()
# id(module) -> its wrapper, while at least one summary uses it.
_wrappers: dict[int, _Wrapper] = {}


class Wrapped:
    """The modules one listener (one summary, in the calling thread) is wrapped on."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.thread_id = get_ident()
        # Each wrapper with the listener it displaced in this thread (a summary
        # run from inside another one's forward), put back on release.
        self._held: list[tuple[_Wrapper, Listener | None]] = []

    def wrap(self, modules: Iterable[nn.Module]) -> list[nn.Module]:
        """Wraps ``modules``; returns those that cannot be wrapped."""
        refused = []
        with _lock:
            for module in modules:
                wrapper = _wrappers.get(id(module))
                if wrapper is None:
                    wrapper = _Wrapper(module)
                    if not wrapper.install():
                        refused.append(module)
                        continue
                    _wrappers[id(module)] = wrapper
                self._held.append((wrapper, wrapper.listeners.get(self.thread_id)))
                wrapper.listeners[self.thread_id] = self.listener
        return refused

    def release(self) -> None:
        with _lock:
            for wrapper, displaced in reversed(self._held):
                if displaced is not None:
                    wrapper.listeners[self.thread_id] = displaced
                    continue
                wrapper.listeners.pop(self.thread_id, None)
                if not wrapper.listeners:
                    wrapper.uninstall()
                    del _wrappers[id(wrapper.module)]
            self._held.clear()
