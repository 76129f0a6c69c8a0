"""``ember.cuda``: the CUDA device API, backed by CuPy when it is installed
(``pip install 'ember[cuda]'``) and sees a GPU.

Without one, ``is_available()`` is False, ``device_count()`` is 0, the
memory counters read 0, seeding is ignored, and everything that needs a
device raises torch's AssertionError ("Torch not compiled with CUDA enabled").

Ops run on CuPy's current device: on a machine with several GPUs, compute on
``cuda:N`` tensors inside ``with ember.cuda.device(N):`` or after
``ember.cuda.set_device(N)`` (placing and moving tensors works anywhere).
"""
from .. import _backend as B
from .memory import (memory_allocated, max_memory_allocated, memory_reserved,
                     max_memory_reserved, reset_peak_memory_stats, reset_max_memory_allocated,
                     empty_cache, mem_get_info)
from .random import (manual_seed, manual_seed_all, seed, seed_all, initial_seed, get_rng_state,
                     set_rng_state, get_rng_state_all, set_rng_state_all)
from .streams import (Stream, Event, StreamContext, stream, current_stream, default_stream,
                      set_stream)
from .._legacy import CUDA_TYPES

globals().update(CUDA_TYPES)  # ember.cuda.FloatTensor, ...


def is_available():
    return B.cupy_module() is not None


def device_count():
    cp = B.cupy_module()
    return 0 if cp is None else cp.cuda.runtime.getDeviceCount()


_state = {"initialized": False}


def _lazy_init():
    """CuPy, once CUDA is known to be usable (torch's error otherwise)."""
    cp = B.require_cupy()
    _state["initialized"] = True
    return cp


def init():
    _lazy_init()


def is_initialized():
    return _state["initialized"]


def _device_index(device, optional=True):
    """The CUDA index ``device`` names: an int, 'cuda', 'cuda:N', an
    ``ember.device``; None means the current device."""
    if device is None or (isinstance(device, str) and device == "cuda"):
        return current_device()
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    dev = B.device(device)
    if dev.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {dev}")
    return current_device() if dev.index is None else dev.index


def current_device():
    return _lazy_init().cuda.runtime.getDevice()


def set_device(device):
    idx = _device_index(device)
    if idx >= 0:
        _lazy_init().cuda.runtime.setDevice(idx)


class device:
    """Context manager that makes ``device`` current (for CuPy's kernels and
    for ``'cuda'`` without an index); ``None`` or a negative index is a no-op."""

    def __init__(self, device):
        self.idx = -1 if device is None else _device_index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx >= 0:
            rt = _lazy_init().cuda.runtime
            self.prev_idx = rt.getDevice()
            if self.prev_idx != self.idx:
                rt.setDevice(self.idx)
        return self

    def __exit__(self, *exc):
        if self.idx >= 0 and self.prev_idx != self.idx:
            _lazy_init().cuda.runtime.setDevice(self.prev_idx)
        return False


class device_of(device):
    """``device`` for the device of tensor ``obj`` (no-op for a CPU tensor)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else None)


def synchronize(device=None):
    """Wait for all work queued on ``device``."""
    cp = _lazy_init()
    cp.cuda.Device(_device_index(device)).synchronize()


class _CudaDeviceProperties:
    """What ``get_device_properties`` returns; prints like torch's."""

    def __init__(self, p):
        name = p["name"]
        self.name = name.decode() if isinstance(name, bytes) else name
        self.major, self.minor = p["major"], p["minor"]
        self.total_memory = p["totalGlobalMem"]
        self.multi_processor_count = p["multiProcessorCount"]
        self.L2_cache_size = p.get("l2CacheSize", 0)
        self.warp_size = p.get("warpSize", 32)
        self.is_integrated = p.get("integrated", 0)
        self.is_multi_gpu_board = p.get("isMultiGpuBoard", 0)
        raw = p.get("uuid", b"")
        h = bytes(raw).hex() if raw else ""
        self.uuid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}" if h else ""
        self.pci_bus_id = p.get("pciBusID", 0)
        self.pci_device_id = p.get("pciDeviceID", 0)
        self.pci_domain_id = p.get("pciDomainID", 0)

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // 1024 ** 2}MB, "
                f"multi_processor_count={self.multi_processor_count}, uuid={self.uuid}, "
                f"pci_bus_id={self.pci_bus_id}, pci_device_id={self.pci_device_id}, "
                f"pci_domain_id={self.pci_domain_id}, "
                f"L2_cache_size={self.L2_cache_size // 1024 ** 2}MB)")


def get_device_properties(device=None):
    cp = _lazy_init()
    idx = _device_index(device)
    if not 0 <= idx < cp.cuda.runtime.getDeviceCount():
        raise AssertionError("Invalid device id")
    return _CudaDeviceProperties(cp.cuda.runtime.getDeviceProperties(idx))


def get_device_name(device=None):
    return get_device_properties(device).name


def get_device_capability(device=None):
    p = get_device_properties(device)
    return p.major, p.minor


def __getattr__(name):
    if name == "default_generators":  # one per device, as torch's tuple
        return tuple(B.cuda_generator(i) for i in range(device_count()))
    raise AttributeError(f"module 'ember.cuda' has no attribute '{name}'")


__all__ = ["is_available", "device_count", "current_device", "set_device", "device",
           "device_of", "synchronize", "init", "is_initialized", "get_device_properties",
           "get_device_name", "get_device_capability", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats", "reset_max_memory_allocated", "empty_cache", "mem_get_info",
           "manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed", "get_rng_state",
           "set_rng_state", "get_rng_state_all", "set_rng_state_all", "Stream", "Event",
           "StreamContext", "stream", "current_stream", "default_stream", "set_stream",
           *CUDA_TYPES]
