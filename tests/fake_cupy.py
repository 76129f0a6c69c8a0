"""A fake CuPy: a pretend machine with two GPUs, for testing ember's CUDA
plumbing where there is no GPU.

It tests ember's plumbing only (device placement, moves between devices,
device errors, printing, the ``ember.cuda`` API, pinned memory, checkpoints),
never CuPy itself and never GPU numerics: "device" arrays are NumPy arrays of
a subclass that records a device id, every kernel is NumPy's, and streams and
events complete at once. The real-CuPy tests (``@pytest.mark.gpu``) check
the rest on a GPU machine.

What it mimics of CuPy 14, so that mistakes in ember fail here as on a GPU:
- ``type(a) is numpy.ndarray`` is False for device arrays;
- NumPy arrays do not mix with device arrays in operations (TypeError), and
  an array on another device than the current one fails (ValueError, as
  CuPy without peer access);
- operations allocate their results on the current device; ``copy()`` copies
  to the current device, ``asarray`` of a device array returns it unchanged;
- reductions and scalar indexing give 0-d device arrays, never NumPy scalars;
- ufunc methods (``at``, ``reduce``, ``accumulate``, ...) exist for a few
  ufuncs only, and a few NumPy functions (``nanquantile``) not at all;
- the current device and stream are per thread.
One gap: ``numpy.asarray(device_array)`` gives a host view here, where CuPy
raises TypeError (NumPy never asks a subclass); the tests check devices instead.

``install()`` puts it in ``sys.modules`` (``cupy``, ``cupy.cuda``,
``cupy._core`` for the TF32 switch, ``cupyx``); ``uninstall()`` takes it out.
"""
import math
import sys
import threading
import time
import types

import numpy as np

DEVICE_COUNT = 2
TOTAL_MEMORY = 16 * 1024 ** 3

_tls = threading.local()


def _current():
    return getattr(_tls, "device", 0)


def _check_id(i):
    if not 0 <= i < DEVICE_COUNT:
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")


class CUDARuntimeError(RuntimeError):
    pass


# ----------------------------------------------------------------------------
# memory: a pool that counts bytes as CuPy's does (blocks rounded to 512 B)


class MemoryPool:
    def __init__(self):
        self._used = [0] * DEVICE_COUNT
        self._free = [0] * DEVICE_COUNT

    @staticmethod
    def _round(n):
        return (n + 511) // 512 * 512

    def malloc(self, nbytes):
        dev, n = _current(), self._round(nbytes)
        take = min(n, self._free[dev])
        self._free[dev] -= take
        self._used[dev] += n
        return MemoryPointer(dev, n, self)

    def _release(self, dev, n):
        self._used[dev] -= n
        self._free[dev] += n

    def used_bytes(self):
        return self._used[_current()]

    def total_bytes(self):
        return self._used[_current()] + self._free[_current()]

    def free_all_blocks(self, stream=None):
        self._free[_current()] = 0


class MemoryPointer:
    """Device memory from the pool; freed back to it when collected."""

    def __init__(self, device_id, size, pool, ptr=0):
        self.device_id, self.size, self.ptr = device_id, size, ptr
        self._pool = pool

    def __del__(self):
        if self._pool is not None:
            self._pool._release(self.device_id, self.size)


class PinnedMemoryPointer(bytearray):
    """Page-locked host memory: a buffer NumPy arrays are built on."""

    def __init__(self, nbytes):
        super().__init__(max(nbytes, 1))
        self.size = nbytes


class PinnedMemoryPool:
    def malloc(self, nbytes):
        return PinnedMemoryPointer(nbytes)


_pool = MemoryPool()
_pinned_pool = PinnedMemoryPool()
_allocator = [_pool.malloc]


def get_default_memory_pool():
    return _pool


def get_default_pinned_memory_pool():
    return _pinned_pool


def set_allocator(allocator=None):
    _allocator[0] = allocator or _pool.malloc


def get_allocator():
    return _allocator[0]


def alloc_pinned_memory(nbytes):
    return _pinned_pool.malloc(nbytes)


# ----------------------------------------------------------------------------
# the array


class _DataPointer:
    """``a.data``: the pointer CuPy arrays expose."""

    __slots__ = ("ptr", "device_id", "mem")

    def __init__(self, a):
        self.ptr = a.__array_interface__["data"][0]
        self.device_id = a._dev
        self.mem = a._mem


# the ufunc methods CuPy 14 has beyond calls, and for which ufuncs
_UFUNC_METHODS = {"at": (np.add, np.maximum, np.minimum, np.bitwise_and, np.bitwise_or,
                         np.bitwise_xor),
                  "reduce": (np.add, np.multiply), "accumulate": (np.add,),
                  "reduceat": (np.add,), "outer": None}  # None: every ufunc
# NumPy functions CuPy does not have (that ember might reach for)
_MISSING = {"nanquantile", "nanpercentile"}


class ndarray(np.ndarray):
    """A "device" array: NumPy memory tagged with a device id. Fresh arrays
    take memory from the pool (see ``_fresh``); views share their base's."""

    __array_priority__ = 100

    def __array_finalize__(self, obj):
        self._dev = getattr(obj, "_dev", None)
        if self._dev is None:
            self._dev = _current()
        self._mem = getattr(obj, "_mem", None)

    @property
    def device(self):
        return Device(self._dev)

    @property
    def data(self):
        return _DataPointer(self)

    def get(self, stream=None, order="C", out=None, blocking=True):
        host = np.array(self.view(np.ndarray), order=order, copy=True)
        if out is None:
            return host
        out[...] = host
        return out

    def set(self, arr, stream=None):
        if not isinstance(arr, np.ndarray) or isinstance(arr, ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr)}")
        if arr.shape != self.shape or arr.dtype != self.dtype:
            raise ValueError("Shape or dtype mismatch")
        self.view(np.ndarray)[...] = arr

    def copy(self, order="C"):
        return _fresh(np.array(self.view(np.ndarray), order=order, copy=True))

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        if not copy and np.dtype(dtype) == self.dtype:
            return self
        _check_device(self)
        return _fresh(self.view(np.ndarray).astype(dtype, order=order))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" and ufunc not in (_UFUNC_METHODS[method] or (ufunc,)):
            raise NotImplementedError(f"`{ufunc.__name__}.{method}` is not supported yet")
        args = _to_host(inputs)
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = _to_host(out)
        r = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _from_host(r)

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in _MISSING:
            return NotImplemented  # NumPy then raises TypeError, as for CuPy
        return _from_host(func(*_to_host(args), **_to_host(kwargs)))

    def __getitem__(self, key):
        r = super().__getitem__(_key(key))
        return r if isinstance(r, ndarray) else _scalar(r, self._dev)

    def __setitem__(self, key, value):
        if isinstance(value, ndarray):
            _check_device(value)
            value = value.view(np.ndarray)
        super().__setitem__(_key(key), value)

    def __reduce__(self):  # as CuPy: unpickles onto the current device
        return asarray, (self.get(),)

    def __repr__(self):
        return "array(" + np.array2string(self.view(np.ndarray), separator=", ") + ")"

    def item(self, *args):
        return self.view(np.ndarray).item(*args)

    def tolist(self):
        return self.view(np.ndarray).tolist()

    def __bool__(self):
        return bool(self.view(np.ndarray))

    def __float__(self):
        return float(self.view(np.ndarray))

    def __int__(self):
        return int(self.view(np.ndarray))

    def __index__(self):
        return self.view(np.ndarray).__index__()


def _host_method(name):
    """A NumPy method that returns host arrays or scalars, returning device arrays."""
    def method(self, *args, **kwargs):
        return _from_host(getattr(_to_host(self), name)(*_to_host(args), **_to_host(kwargs)))
    method.__name__ = name
    return method


for _name in ("argmax", "argmin", "nonzero", "searchsorted", "trace", "max", "min", "sum", "prod",
              "mean", "var", "std", "all", "any", "cumsum", "cumprod"):
    setattr(ndarray, _name, _host_method(_name))


def _check_device(a):
    if a._dev != _current():
        raise ValueError(f"The device where the array resides ({a._dev}) is different from the "
                         f"current device ({_current()}). Peer access is unavailable between "
                         "these devices.")


def _to_host(x, check=True):
    """Unwrap device arrays (checking their device, unless only viewed) for
    NumPy; refuse host arrays."""
    if isinstance(x, ndarray):
        if check:
            _check_device(x)
        return x.view(np.ndarray)
    if isinstance(x, np.ndarray):
        raise TypeError(f"Unsupported type {type(x)}")
    if isinstance(x, (tuple, list)):
        return type(x)(_to_host(v, check) for v in x)
    if isinstance(x, dict):
        return {k: _to_host(v, check) for k, v in x.items()}
    return x


def _key(key):
    """An index for NumPy: device arrays unwrapped; host index arrays are
    accepted, as CuPy copies them over."""
    if isinstance(key, ndarray):
        _check_device(key)
        return key.view(np.ndarray)
    if isinstance(key, tuple):
        return tuple(_key(k) for k in key)
    return key


def _fresh(host):
    """A new device array (no base, like CuPy's) on the current device holding
    ``host``'s values, its memory counted by the pool."""
    order = "F" if host.flags.f_contiguous and not host.flags.c_contiguous else "C"
    a = np.ndarray.__new__(ndarray, host.shape, host.dtype, order=order)
    a.view(np.ndarray)[...] = host
    a._dev = _current()
    a._mem = _allocator[0](host.nbytes)
    return a


def _scalar(s, dev):
    a = _fresh(np.asarray(s))
    a._dev = dev
    return a


def _from_host(r):
    if isinstance(r, ndarray):
        return r
    if isinstance(r, np.ndarray):
        if r.base is None:
            return _fresh(r)
        src = r.base  # a view: of device memory (keep its device), or of a temporary
        while src is not None and not isinstance(src, ndarray):
            src = getattr(src, "base", None)
        v = r.view(ndarray)
        v._dev = _current() if src is None else src._dev
        v._mem = None if src is None else src._mem
        return v
    if isinstance(r, np.generic):
        return _fresh(np.asarray(r))
    if isinstance(r, tuple):
        return tuple(_from_host(v) for v in r)
    if isinstance(r, list):
        return [_from_host(v) for v in r]
    return r


# ----------------------------------------------------------------------------
# module-level functions: NumPy's, on the current device


def asarray(a, dtype=None, order=None, *, blocking=False):
    if isinstance(a, ndarray):
        return a if dtype is None or np.dtype(dtype) == a.dtype else a.astype(dtype)
    return _fresh(np.array(a, dtype=dtype, order=order or "K", copy=True))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if isinstance(obj, ndarray):
        return obj.astype(dtype or obj.dtype, copy=copy)
    return _fresh(np.array(obj, dtype=dtype, order=order, ndmin=ndmin, copy=True))


def ascontiguousarray(a, dtype=None):
    return asarray(np.ascontiguousarray(_to_host(a), dtype=dtype))


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if isinstance(a, ndarray):
        return a.get(stream, order, out)
    return np.asarray(a, order=order)


# functions that only make views: no kernel, so CuPy does not check the device
_VIEWS = {"as_strided", "broadcast_to", "reshape", "transpose", "expand_dims", "squeeze",
          "moveaxis", "swapaxes"}


def _wrap_function(f):
    check = getattr(f, "__name__", "") not in _VIEWS

    def wrapper(*args, **kwargs):
        return _from_host(f(*_to_host(args, check), **_to_host(kwargs, check)))
    wrapper.__name__ = getattr(f, "__name__", "function")
    wrapper.__doc__ = f"NumPy's {wrapper.__name__} on the current fake device."
    return wrapper


def _namespace_getattr(source, cache):
    def __getattr__(name):
        if name in cache:
            return cache[name]
        if name in _MISSING:
            raise AttributeError(f"module 'cupy' has no attribute {name!r}")
        try:
            v = getattr(source, name)
        except AttributeError:
            raise AttributeError(f"the fake CuPy has no attribute {name!r}") from None
        if isinstance(v, types.FunctionType) or (callable(v) and type(v).__name__ in (
                "_ArrayFunctionDispatcher", "builtin_function_or_method")):
            v = _wrap_function(v)
        elif isinstance(v, types.ModuleType):  # cupy.linalg, cupy.lib.stride_tricks, ...
            m = types.ModuleType("cupy." + name)
            m.__getattr__ = _namespace_getattr(v, {})
            v = m
        cache[name] = v
        return v
    return __getattr__


# ----------------------------------------------------------------------------
# cupy.cuda: devices, runtime, streams, events


class Device:
    def __init__(self, device=None):
        self.id = _current() if device is None else int(device)
        self._saved = []

    def __enter__(self):
        _check_id(self.id)
        self._saved.append(_current())
        _tls.device = self.id
        return self

    def __exit__(self, *exc):
        _tls.device = self._saved.pop()

    def use(self):
        _check_id(self.id)
        _tls.device = self.id

    def synchronize(self):
        _check_id(self.id)

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


def _properties(i):
    _check_id(i)
    return {"name": f"Fake GPU {i}".encode(), "totalGlobalMem": TOTAL_MEMORY, "major": 9,
            "minor": 0, "multiProcessorCount": 132, "l2CacheSize": 50 * 1024 ** 2,
            "warpSize": 32, "integrated": 0, "isMultiGpuBoard": 0,
            "uuid": bytes(range(i, i + 16)), "pciBusID": i + 1, "pciDeviceID": 0,
            "pciDomainID": 0}


def _set_device(i):
    _check_id(i)
    _tls.device = i


runtime = types.SimpleNamespace(
    getDeviceCount=lambda: DEVICE_COUNT, getDevice=_current, setDevice=_set_device,
    getDeviceProperties=_properties, deviceSynchronize=lambda: None,
    memGetInfo=lambda: (TOTAL_MEMORY - _pool.total_bytes(), TOTAL_MEMORY),
    CUDARuntimeError=CUDARuntimeError)


class Stream:
    """Work completes at once, so ``done`` is always True."""

    null = None

    def __init__(self, null=False, non_blocking=False, ptds=False, priority=None):
        self.ptr = 0 if null else id(self)
        self.device_id = _current()
        self.priority = priority or 0
        self._saved = []
        self.waited = []

    def __enter__(self):
        self._saved.append(get_current_stream())
        _tls.stream = self
        return self

    def __exit__(self, *exc):
        _tls.stream = self._saved.pop()

    def use(self):
        _tls.stream = self
        return self

    @property
    def done(self):
        return True

    def synchronize(self):
        pass

    def record(self, event=None):
        event = event or Event()
        event.record(self)
        return event

    def wait_event(self, event):
        self.waited.append(event)


Stream.null = Stream(null=True)


def get_current_stream(device_id=None):
    return getattr(_tls, "stream", None) or Stream.null


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.block, self.disable_timing = block, disable_timing
        self.ptr = id(self)
        self._time = None

    def record(self, stream=None):
        self._time = time.perf_counter()
        self.stream = stream or get_current_stream()

    @property
    def done(self):
        return True

    def synchronize(self):
        pass


def get_elapsed_time(start_event, end_event):
    if start_event.disable_timing or end_event.disable_timing:
        raise CUDARuntimeError("cudaErrorInvalidResourceHandle: invalid resource handle")
    if start_event._time is None or end_event._time is None:
        raise CUDARuntimeError("cudaErrorInvalidResourceHandle: invalid resource handle")
    return (end_event._time - start_event._time) * 1000.0


cuda = types.SimpleNamespace(
    Device=Device, runtime=runtime, Stream=Stream, Event=Event,
    get_current_stream=get_current_stream, get_elapsed_time=get_elapsed_time,
    PinnedMemoryPointer=PinnedMemoryPointer, set_allocator=set_allocator,
    get_allocator=get_allocator, alloc_pinned_memory=alloc_pinned_memory)


# ----------------------------------------------------------------------------
# TF32: the switch of cupy._core._routines_linalg

_compute_types = {}
_routines_linalg = types.SimpleNamespace(
    COMPUTE_TYPE_TBD=0, COMPUTE_TYPE_DEFAULT=1, COMPUTE_TYPE_TF32=7,
    set_compute_type=lambda dtype, ct: _compute_types.__setitem__(np.dtype(dtype), ct),
    get_compute_type=lambda dtype: _compute_types.get(np.dtype(dtype), 1))
_core = types.SimpleNamespace(_routines_linalg=_routines_linalg, ndarray=ndarray)


# ----------------------------------------------------------------------------
# cupyx: pinned host buffers, scatter_add, scipy.special


def empty_pinned(shape, dtype=float, order="C"):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    dtype = np.dtype(dtype)
    mem = alloc_pinned_memory(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize)
    return np.ndarray(shape, dtype, buffer=mem, order=order)


def scatter_add(a, slices, value):
    """``a[slices] += value`` with repeated indices summed (NumPy's add.at)."""
    np.add.at(_to_host(a), _key(slices), _to_host(value))


def _special():
    """``cupyx.scipy`` with the ``special`` functions ember calls."""
    erf = np.frompyfunc(math.erf, 1, 1)
    special = types.ModuleType("cupyx.scipy.special")
    special.erf = _wrap_function(lambda x: erf(x).astype(x.dtype))
    scipy = types.ModuleType("cupyx.scipy")
    scipy.special, scipy.__path__ = special, []
    return scipy


def _build():
    cp = types.ModuleType("cupy", __doc__)
    ns = dict(ndarray=ndarray, asarray=asarray, array=array, asnumpy=asnumpy,
              ascontiguousarray=ascontiguousarray,
              cuda=cuda, _core=_core, get_default_memory_pool=get_default_memory_pool,
              get_default_pinned_memory_pool=get_default_pinned_memory_pool,
              __version__="14.2.0", __file__=__file__)
    vars(cp).update(ns)
    cp.__getattr__ = _namespace_getattr(np, {})
    cpx = types.ModuleType("cupyx", "fake cupyx: pinned host buffers, scatter_add, special")
    cpx.__path__ = []  # a package: cupyx.scipy.special imports
    cpx.scipy = _special()
    cpx.empty_pinned = empty_pinned
    cpx.scatter_add = scatter_add
    cpx.zeros_pinned = lambda shape, dtype=float, order="C": _zero(empty_pinned(shape, dtype, order))
    return cp, cpx


def _zero(a):
    a[...] = 0
    return a


_MODULES = ("cupy", "cupyx", "cupyx.scipy", "cupyx.scipy.special", "cupy.cuda", "cupy._core",
            "cupy._core._routines_linalg")


def install():
    """Make ``import cupy`` give the fake; returns it."""
    cp, cpx = _build()
    sys.modules.update({"cupy": cp, "cupyx": cpx, "cupyx.scipy": cpx.scipy,
                        "cupyx.scipy.special": cpx.scipy.special, "cupy.cuda": cuda, "cupy._core": _core,
                        "cupy._core._routines_linalg": _routines_linalg})
    _tls.device = 0
    _tls.stream = None
    _compute_types.clear()
    return cp


def uninstall():
    for name in _MODULES:
        sys.modules.pop(name, None)
