"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

One module-level flag, read by every op before it records a graph node.
"""
import functools

_state = [True]  # grad recording on/off


def is_grad_enabled():
    return _state[0]


def is_inference_mode_enabled():
    return _inference[0]


_inference = [False]


class _DecoratorContextManager:
    """Usable as ``with mode():`` and as ``@mode()`` / ``@mode``."""

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_DecoratorContextManager):
    def __new__(cls, func=None):
        self = super().__new__(cls)
        if callable(func):  # bare @no_grad
            return self(func)
        return self

    def __enter__(self):
        self.prev = _state[0]
        _state[0] = False

    def __exit__(self, *exc):
        _state[0] = self.prev


class enable_grad(no_grad):
    def __enter__(self):
        self.prev = _state[0]
        _state[0] = True


class set_grad_enabled(_DecoratorContextManager):
    """Sets the mode on construction, like torch; restores it on exit."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self.prev = _state[0]
        _state[0] = self.mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _state[0] = self.prev

    def clone(self):
        return set_grad_enabled(self.mode)


class inference_mode(_DecoratorContextManager):
    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):  # bare @inference_mode
            self.mode = True
            return self(mode)
        return self

    def __init__(self, mode=True):
        if not callable(mode):
            self.mode = bool(mode)

    def __enter__(self):
        self.prev = (_state[0], _inference[0])
        if self.mode:
            _state[0] = False
            _inference[0] = True

    def __exit__(self, *exc):
        _state[0], _inference[0] = self.prev

    def clone(self):
        return inference_mode(self.mode)
