"""How a batch travels from a worker to the main process.

The worker has already collated the batch (one contiguous array per field).
It is pickled with protocol 5 so that every array is an out-of-band buffer
(``Tensor.__reduce_ex__`` hands NumPy the array, NumPy hands pickle the
memory). Batches of at least ``SHM_MIN_BYTES`` of array data are copied once
into a fresh POSIX shared-memory segment and only the small pickle header and
the segment's name go through the result queue; the main process maps the
segment, unlinks it at once and rebuilds the arrays on the mapping, without
copying (the mapping lives as long as the arrays do). Smaller batches go
through the queue as ordinary pickles: below about a megabyte that is faster
than creating and mapping a segment.

Segments are named ``/emdl<main pid>_<worker pid>_<n>``; whatever a worker
created that never reached the main process (shutdown with batches in
flight) is unlinked by the main process after its workers exit, or by the
worker itself when it finds its parent gone.
"""
import itertools
import mmap
import os
import pickle

try:  # the module behind multiprocessing.shared_memory on POSIX systems
    import _posixshmem
except ImportError:  # Windows: batches always go through the queue
    _posixshmem = None

SHM_MIN_BYTES = 1 << 20
_SHM_DIR = "/dev/shm"  # where Linux keeps the segments (used to find leftovers)
_ALIGN = 64
_counter = itertools.count()


class SharedBatch:
    """A batch whose array data lies in the shared-memory segment ``name``:
    ``header`` is its protocol-5 pickle, ``spans`` the (offset, size) of each
    out-of-band buffer in the segment."""

    __slots__ = ("header", "name", "spans")

    def __init__(self, header, name, spans):
        self.header, self.name, self.spans = header, name, spans

    def __reduce__(self):
        return SharedBatch, (self.header, self.name, self.spans)


def segment_prefix(main_pid, worker_pid):
    return f"emdl{main_pid}_{worker_pid}_"


def pack(data, main_pid):
    """What a worker puts on the result queue for ``data``: ``data`` itself,
    or a SharedBatch for a large one. Raises what pickling ``data`` raises."""
    buffers = []
    header = pickle.dumps(data, protocol=5, buffer_callback=buffers.append)
    if _posixshmem is None or not buffers:
        return data
    raws = [b.raw() for b in buffers]
    spans, size = [], 0
    for r in raws:
        size = -(-size // _ALIGN) * _ALIGN
        spans.append((size, r.nbytes))
        size += r.nbytes
    if size < SHM_MIN_BYTES:
        return data
    name = "/" + segment_prefix(main_pid, os.getpid()) + str(next(_counter))
    fd = _posixshmem.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, mode=0o600)
    try:
        os.ftruncate(fd, size)
        with mmap.mmap(fd, size) as mm:
            for r, (off, n) in zip(raws, spans):
                mm[off:off + n] = r
    except BaseException:
        _posixshmem.shm_unlink(name)
        raise
    finally:
        os.close(fd)
    return SharedBatch(header, name, spans)


def unpack(msg):
    """The batch a worker sent (main process side): ``msg`` itself, or the
    arrays of a SharedBatch rebuilt on a mapping of its segment, which is
    unlinked here so that it disappears with its last array."""
    if type(msg) is not SharedBatch:
        return msg
    fd = _posixshmem.shm_open(msg.name, os.O_RDWR, mode=0o600)
    try:
        mm = mmap.mmap(fd, 0)
    finally:
        os.close(fd)
        _posixshmem.shm_unlink(msg.name)
    view = memoryview(mm)
    return pickle.loads(msg.header, buffers=[view[o:o + n] for o, n in msg.spans])


def discard(msg):
    """Drop a message without rebuilding it, freeing its segment if any."""
    if type(msg) is SharedBatch:
        try:
            _posixshmem.shm_unlink(msg.name)
        except OSError:
            pass


def unlink_leftovers(main_pid, worker_pid):
    """Unlink every segment ``worker_pid`` made for ``main_pid`` that is still
    there (Linux; elsewhere there is no directory to list)."""
    if _posixshmem is None:
        return
    prefix = segment_prefix(main_pid, worker_pid)
    try:
        names = os.listdir(_SHM_DIR)
    except OSError:
        return
    for n in names:
        if n.startswith(prefix):
            try:
                _posixshmem.shm_unlink("/" + n)
            except OSError:
                pass
