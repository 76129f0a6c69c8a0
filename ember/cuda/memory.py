"""Memory counters of ``ember.cuda``, read from CuPy's device memory pool.

``memory_allocated`` is the pool's bytes in use by arrays, ``memory_reserved``
the bytes the pool holds (in use plus cached). CuPy keeps no peaks, so ember
tracks them itself once asked: the first call of ``reset_peak_memory_stats``
or a ``max_memory_*`` function wraps CuPy's allocator to record the peak after
every allocation from then on (a small cost per allocation, none before).
Without CUDA the counters read 0, as torch's do before CUDA starts.
"""
from .. import _backend as B

_peaks = {}      # device index -> [peak allocated, peak reserved]
_tracking = []   # the installed tracking allocator, once there is one


def _index(device):
    from . import _device_index
    return _device_index(device)


def _pool_bytes(cp, idx):
    pool = cp.get_default_memory_pool()
    with cp.cuda.Device(idx):
        return pool.used_bytes(), pool.total_bytes()


def _track(cp):
    """Wrap the current allocator so that each allocation updates the peaks."""
    if _tracking:
        return
    inner = cp.cuda.get_allocator()
    pool = cp.get_default_memory_pool()

    def malloc(nbytes):
        mem = inner(nbytes)
        p = _peaks.setdefault(mem.device_id, [0, 0])
        used, total = pool.used_bytes(), pool.total_bytes()
        if used > p[0]:
            p[0] = used
        if total > p[1]:
            p[1] = total
        return mem

    cp.cuda.set_allocator(malloc)
    _tracking.append(malloc)


def memory_allocated(device=None):
    cp = B.cupy_module()
    return 0 if cp is None else _pool_bytes(cp, _index(device))[0]


def memory_reserved(device=None):
    cp = B.cupy_module()
    return 0 if cp is None else _pool_bytes(cp, _index(device))[1]


def _peak(device, which):
    cp = B.cupy_module()
    if cp is None:
        return 0
    _track(cp)
    idx = _index(device)
    now = _pool_bytes(cp, idx)[which]
    p = _peaks.setdefault(idx, [0, 0])
    p[which] = max(p[which], now)
    return p[which]


def max_memory_allocated(device=None):
    """The peak of ``memory_allocated`` since tracking began (see the module
    note) or the last ``reset_peak_memory_stats``."""
    return _peak(device, 0)


def max_memory_reserved(device=None):
    return _peak(device, 1)


def reset_peak_memory_stats(device=None):
    cp = B.require_cupy()
    _track(cp)
    idx = _index(device)
    _peaks[idx] = list(_pool_bytes(cp, idx))


def reset_max_memory_allocated(device=None):
    reset_peak_memory_stats(device)


def empty_cache():
    """Give the pool's cached, unused blocks back to the driver."""
    cp = B.cupy_module()
    if cp is not None:
        cp.get_default_memory_pool().free_all_blocks()


def mem_get_info(device=None):
    """(free, total) bytes of the device, as the driver sees them."""
    cp = B.require_cupy()
    with cp.cuda.Device(_index(device)):
        return cp.cuda.runtime.memGetInfo()
