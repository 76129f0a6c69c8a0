"""Pinning batches into page-locked host memory so host-to-device copies can
run asynchronously. Without an accelerator this is never reached (the
DataLoader warns and skips it); the CUDA backend provides
``Tensor.pin_memory()`` (e.g. a copy into ``cupyx.empty_pinned``), which is
the only hook this module needs."""
import collections
import queue

import ember

from . import MP_STATUS_CHECK_INTERVAL, ExceptionWrapper
from .collate import _rebuild


def _pin_memory_loop(in_queue, out_queue, device_id, done_event, device, get=None):
    """Thread body: move ``(idx, batch)`` from ``in_queue`` to ``out_queue``,
    pinning each batch. ``get(timeout)`` reads ``in_queue`` (the loader passes
    its own reader, which also rebuilds shared-memory batches)."""
    get = get or in_queue.get
    if device_id is not None and ember.cuda.is_available():
        ember.cuda.set_device(device_id)

    def do_one_step():
        try:
            r = get(timeout=MP_STATUS_CHECK_INTERVAL)
        except queue.Empty:
            return
        idx, data = r
        if not done_event.is_set() and not isinstance(data, ExceptionWrapper):
            try:
                data = pin_memory(data, device)
            except Exception:
                data = ExceptionWrapper(where=f"in pin memory thread for device {device_id}")
            r = (idx, data)
        while not done_event.is_set():
            try:
                out_queue.put(r, timeout=MP_STATUS_CHECK_INTERVAL)
                break
            except queue.Full:
                continue

    while not done_event.is_set():
        do_one_step()


def pin_memory(data, device=None):
    """``data`` with every tensor (or object with a ``pin_memory`` method)
    pinned, containers rebuilt with their own types."""
    if isinstance(data, ember.Tensor) or hasattr(data, "pin_memory"):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(pin_memory(v, device) for v in data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, list(data.items()), lambda v: pin_memory(v, device))
    if isinstance(data, collections.abc.Sequence):  # tuples stay tuples
        return _rebuild(data, list(enumerate(data)), lambda v: pin_memory(v, device))
    return data
