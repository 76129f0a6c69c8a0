"""CUDA streams and events over CuPy's (``cupy.cuda.Stream`` / ``Event``).

CuPy launches every kernel on its current stream, so making a stream current
(``with ember.cuda.stream(s):`` or ``with s:``) is all it takes to queue
ember's ops on it.
"""
from .. import _backend as B


def _cupy():
    from . import _lazy_init
    return _lazy_init()


def _index(device):
    from . import _device_index
    return _device_index(device)


class Stream:
    """A CUDA stream on ``device`` (default: the current one); lower
    ``priority`` runs first, as in CUDA."""

    def __init__(self, device=None, priority=0, **kwargs):
        cp = _cupy()
        idx = _index(device)
        with cp.cuda.Device(idx):
            self._cp = cp.cuda.Stream(non_blocking=False, priority=priority)
        self.device = B.device("cuda", idx)
        self.priority = priority
        self._ctx = []

    @classmethod
    def _of(cls, cp_stream, idx):
        s = cls.__new__(cls)
        s._cp, s.device, s.priority, s._ctx = cp_stream, B.device("cuda", idx), 0, []
        return s

    @property
    def cuda_stream(self):
        return self._cp.ptr

    def query(self):
        """Whether all work queued on the stream has finished."""
        return self._cp.done

    def synchronize(self):
        self._cp.synchronize()

    def wait_event(self, event):
        """Make work queued later on this stream wait for ``event``."""
        self._cp.wait_event(event._cp)

    def wait_stream(self, stream):
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        event = Event() if event is None else event
        event.record(self)
        return event

    def __enter__(self):
        ctx = StreamContext(self)
        self._ctx.append(ctx)
        ctx.__enter__()
        return self

    def __exit__(self, *exc):
        return self._ctx.pop().__exit__(*exc)

    def __eq__(self, other):
        return isinstance(other, Stream) and self._cp.ptr == other._cp.ptr \
            and self.device == other.device

    def __hash__(self):
        return hash((self._cp.ptr, self.device))

    def __repr__(self):
        return f"<torch.cuda.Stream device={self.device} cuda_stream={self._cp.ptr:#x}>"


class Event:
    """A CUDA event: a marker in a stream to wait on or time against."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        cp = _cupy()
        self.enable_timing = enable_timing
        self._cp = cp.cuda.Event(block=blocking, disable_timing=not enable_timing,
                                 interprocess=interprocess)
        self._recorded = False

    @property
    def cuda_event(self):
        return self._cp.ptr

    def record(self, stream=None):
        """Record the event on ``stream`` (default: the current stream)."""
        self._cp.record(None if stream is None else stream._cp)
        self._recorded = True

    def wait(self, stream=None):
        """Make work queued later on ``stream`` wait for this event."""
        (current_stream() if stream is None else stream).wait_event(self)

    def query(self):
        return self._cp.done

    def synchronize(self):
        self._cp.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds between this event and ``end_event`` (waits for it)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if not (self._recorded and end_event._recorded):
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        end_event.synchronize()
        return _cupy().cuda.get_elapsed_time(self._cp, end_event._cp)

    def __repr__(self):
        return f"<torch.cuda.Event {self._cp.ptr:#x}>" if self._recorded \
            else "<torch.cuda.Event uninitialized>"


class StreamContext:
    """Makes ``stream`` (and its device) current inside ``with``; None is a no-op."""

    def __init__(self, stream):
        self.stream = stream
        self._saved = None

    def __enter__(self):
        s = self.stream
        if s is None:
            return None
        cp = _cupy()
        dev = cp.cuda.Device(s.device.index)
        dev.__enter__()
        s._cp.__enter__()
        self._saved = dev
        return s

    def __exit__(self, *exc):
        if self.stream is not None:
            self.stream._cp.__exit__(*exc)
            self._saved.__exit__(*exc)
        return False


def stream(stream):
    return StreamContext(stream)


def current_stream(device=None):
    cp = _cupy()
    idx = _index(device)
    with cp.cuda.Device(idx):
        return Stream._of(cp.cuda.get_current_stream(), idx)


def default_stream(device=None):
    cp = _cupy()
    return Stream._of(cp.cuda.Stream.null, _index(device))


def set_stream(stream):
    """Make ``stream`` current on its device (outside any ``with``)."""
    if stream is not None:
        stream._cp.use()
