"""``ember.cuda``: the CUDA device API, backed by CuPy when it is installed
and sees a GPU. Without one, ``is_available()`` is False and the rest raises
a clear error (the CUDA backend issue fills this module in)."""
from .. import _backend as B


def is_available():
    return B.cupy_module() is not None


def device_count():
    cp = B.cupy_module()
    return 0 if cp is None else cp.cuda.runtime.getDeviceCount()


def _cupy():
    cp = B.cupy_module()
    if cp is None:
        raise AssertionError("Torch not compiled with CUDA enabled: ember found no CUDA device "
                             "(install CuPy with pip install 'ember[cuda]')")
    return cp


def current_device():
    return _cupy().cuda.runtime.getDevice()


def set_device(device):
    idx = device if isinstance(device, int) else B.to_device(device).index
    _cupy().cuda.runtime.setDevice(idx)


def synchronize(device=None):
    if is_available():
        _cupy().cuda.Device().synchronize()


def manual_seed(seed):
    """CUDA random numbers come from the global generator; accepted for torch parity."""


def manual_seed_all(seed):
    """CUDA random numbers come from the global generator; accepted for torch parity."""


def empty_cache():
    if is_available():
        _cupy().get_default_memory_pool().free_all_blocks()
