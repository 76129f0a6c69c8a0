"""Helpers of the DataLoader that run in worker processes (collate, fetch,
the worker loop, pinning) or move batches between processes (transport).
Everything here lives at module level so that it pickles under 'spawn'."""
import atexit
import pickle
import sys
import traceback

MP_STATUS_CHECK_INTERVAL = 5.0
"""Seconds between liveness checks of the other side while waiting on a queue."""

python_exit_status = False
"""Set when the interpreter shuts down: iterators then skip the orderly worker shutdown."""


def _set_python_exit_flag():
    global python_exit_status
    python_exit_status = True


atexit.register(_set_python_exit_flag)


class KeyErrorMessage(str):
    """A str whose repr is itself: KeyError prints repr(arg), which would
    mangle a multi-line traceback."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception and its formatted traceback, sent across processes and
    re-raised there (torch's ``torch._utils.ExceptionWrapper``)."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_name = self.exc_type.__name__
        # Keep only the text: the traceback object would pin the frames.
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def __getstate__(self):
        # An exception class the other process cannot import (a local class)
        # travels as its nearest importable base.
        state = dict(self.__dict__)
        for cls in self.exc_type.__mro__:
            try:
                pickle.dumps(cls)
                break
            except Exception:
                continue
        state["exc_type"] = cls
        return state

    def reraise(self):
        msg = f"Caught {self.exc_name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            # The exception needs other constructor arguments.
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:
            # No frame -> exception reference: the traceback would otherwise form a
            # cycle that keeps the DataLoader iterator (and its workers) until gc runs.
            del exception


from . import collate, fetch, pin_memory, transport, worker  # noqa: E402
