"""Recording ``forward`` wrappers on module instances.

A module's ``forward`` is looked up on the instance first, so a callable stored
in ``module.__dict__["forward"]`` runs for every call of the module: one Python
call per module call, against the four of a forward pre/post hook pair, and
nothing to register with torch (registering and removing 30,000 hooks takes
longer than running a 15,000-module model).

Summaries may run in several threads at once, on one model or several. Each
module gets one wrapper while any summary uses it (the first summary installs
it, the others join it); the wrapper hands a call to
the listener (a ``Recorder``) that the calling thread registered *on that
module*, and passes every other call straight through. The last summary to
finish puts the module's own ``forward`` attribute back (or none, as before).
A wrapper the model kept a reference to meanwhile, or copied, only passes calls
through once its summary has ended.
"""

from __future__ import annotations

import copy
import sys
import threading
import types
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


# A listener's enter/leave/fail, bound once per summary rather than once per call.
_Methods = tuple[Any, Any, Any]


class RecordedForward:
    """What ``module.forward`` is while summaries record the module.

    It reads as the forward it wraps: ``inspect.signature`` follows
    ``__wrapped__``, ``__self__``, ``__func__`` and ``__name__`` are the wrapped
    forward's, and a deep copy or a pickle of the module (made by the model's
    own code during the summary) gets the plain forward, not this.
    """

    __slots__ = ("__wrapped__", "attributes", "methods", "module", "others", "previous", "thread")

    def __init__(
        self,
        module: nn.Module,
        previous: Any,
        attributes: dict[str, Any] | None = None,
        listener: tuple[int, _Methods] | None = None,
    ) -> None:
        self.module = module
        # The module's __dict__ (given when the caller has it: reading it is
        # not free, as nn.Module defines __getattr__).
        self.attributes: dict[str, Any] = module.__dict__ if attributes is None else attributes
        # The module's own instance ``forward`` attribute, if it had one.
        self.previous = previous
        self.__wrapped__: Any = module.forward
        # The listener recording this module: one thread's (``thread``, its
        # ``methods``) in the usual case, others' by thread id (made only when a
        # second thread records the module at the same time). ``listener``:
        # the first one, (thread id, methods).
        self.thread: int | None = None
        self.methods: _Methods | None = None
        if listener is not None:
            self.thread, self.methods = listener
        self.others: dict[int, _Methods] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ident = get_ident()
        if ident == self.thread:
            methods = self.methods
        else:
            others = self.others
            methods = others.get(ident) if others else None
        if methods is None:
            return self.__wrapped__(*args, **kwargs)
        enter, leave, fail = methods
        row = enter(self.module, args, kwargs)
        if row is None:
            return self.__wrapped__(*args, **kwargs)
        try:
            output = self.__wrapped__(*args, **kwargs)
        except BaseException as error:
            fail(row, (args, kwargs) if kwargs else args, error)
            raise
        leave(row, output)
        return output

    def listener(self, thread_id: int) -> _Methods | None:
        """The methods of the listener recording this module in ``thread_id``."""
        if thread_id == self.thread:
            return self.methods
        return self.others.get(thread_id) if self.others else None

    def set_listener(self, thread_id: int, methods: _Methods | None) -> None:
        """Makes ``methods`` the listener of ``thread_id`` (None: there is none).
        Called under the module lock; a call reading them meanwhile sees the old
        or the new listener of its own thread, never another thread's."""
        if thread_id == self.thread:
            if methods is None:
                self.thread = None  # first: a reader who sees the thread sees its methods
            self.methods = methods
        elif methods is None:
            if self.others:
                self.others.pop(thread_id, None)
        elif self.thread is None:
            if self.others:
                self.others.pop(thread_id, None)
            self.methods = methods
            self.thread = thread_id
        else:
            if self.others is None:
                self.others = {}
            self.others[thread_id] = methods

    def stop_listening(self, thread_id: int, displaced: _Methods | None) -> None:
        """``thread_id``'s summary ends: the listener it displaced is back (None:
        none), and the module gets its own ``forward`` back when no summary
        records it any more."""
        self.set_listener(thread_id, displaced)
        if displaced is None and self.thread is None and not self.others:
            self.uninstall()

    # What code may read of a bound method. (Properties, not __getattr__, which
    # would slow down every attribute read in __call__.)
    @property
    def __self__(self) -> Any:
        return self.__wrapped__.__self__

    @property
    def __func__(self) -> Any:
        return self.__wrapped__.__func__

    @property
    def __name__(self) -> str:
        return str(getattr(self.__wrapped__, "__name__", "forward"))

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return copy.deepcopy(self.__wrapped__, memo)

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return _unwrapped_forward, (self.__wrapped__,)

    def install(self, check: bool = True) -> bool:
        """False (and nothing changed) where the class does not let an instance
        attribute shadow ``forward`` (a property, say). ``check=False``: another
        instance of the class was checked (the class decides)."""
        self.attributes["forward"] = self
        if not check or self.module.forward is self:
            return True
        self.uninstall()
        return False

    def uninstall(self) -> None:
        attributes = self.attributes
        if attributes.get("forward") is not self:
            return  # the model replaced it itself: its own change, kept
        if self.previous is _MISSING:
            del attributes["forward"]
        else:
            attributes["forward"] = self.previous


def _unwrapped_forward(forward: Any) -> Any:
    return forward


_lock = threading.Lock()


class Wrapped:
    """One summary's use of the wrappers: its listener, in the calling thread."""

    def __init__(self, listener: Listener) -> None:
        self.methods: _Methods = (listener.enter, listener.leave, listener.fail)
        self.thread_id = get_ident()
        # Each wrapper with the listener it displaced in this thread (a summary
        # run from inside another one's forward), put back on release.
        self._held: list[tuple[RecordedForward, _Methods | None]] = []

    def wrap(self, modules: Iterable[nn.Module]) -> list[nn.Module]:
        """Wraps ``modules`` (or joins the wrapper another summary put there) and
        listens to them; returns the modules that cannot be wrapped."""
        refused = []
        held, thread_id, methods = self._held, self.thread_id, self.methods
        listener = (thread_id, methods)
        # Class -> whether an instance attribute shadows its ``forward``: a
        # class-level fact (a data descriptor, __getattribute__), tried once.
        shadows: dict[type, bool] = {}
        with _lock:
            for module in modules:
                attributes = module.__dict__
                current = attributes.get("forward", _MISSING)
                if type(current) is RecordedForward and current.module is module:
                    wrapper = current
                else:
                    cls = type(module)
                    known = shadows.get(cls)
                    if known is False:
                        refused.append(module)
                        continue
                    wrapper = RecordedForward(module, current, attributes, listener)
                    installed = wrapper.install(check=known is None)
                    if known is None:
                        shadows[cls] = installed
                    if not installed:
                        refused.append(module)
                        continue
                    held.append((wrapper, None))  # listening from the start
                    continue
                held.append((wrapper, wrapper.listener(thread_id)))
                wrapper.set_listener(thread_id, methods)
        return refused

    def release(self) -> None:
        with _lock:
            thread_id = self.thread_id
            for wrapper, displaced in reversed(self._held):
                wrapper.stop_listening(thread_id, displaced)
            self._held.clear()


def _module_call_codes() -> frozenset[types.CodeType]:
    """The code of ``nn.Module.__call__``'s machinery that calls ``forward``."""
    codes: set[types.CodeType] = set()
    pending = [
        getattr(nn.Module, name).__code__
        for name in ("_call_impl", "_slow_forward")
        if hasattr(getattr(nn.Module, name, None), "__code__")
    ]
    while pending:
        code = pending.pop()
        codes.add(code)
        pending += [const for const in code.co_consts if isinstance(const, types.CodeType)]
    return frozenset(codes)


_MODULE_CALL_CODES = _module_call_codes()


def called_as_module(depth: int) -> bool:
    """Whether the frame ``depth`` levels above the caller is torch's
    ``module(...)`` machinery (rather than code calling ``.forward`` directly)."""
    return sys._getframe(depth + 1).f_code in _MODULE_CALL_CODES
