"""Devices, array modules, dtypes and torch's type-promotion rules.

Everything above this module asks it which array module (``xp``) serves a
device; nothing else imports CuPy.
"""
import numpy as np

# ----------------------------------------------------------------------------
# dtypes


class dtype:
    """A tensor element type; prints as torch prints it (``torch.float32``)."""

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed",
                 "itemsize", "_rank", "_category")

    def __init__(self, name, np_dtype, category, rank):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.is_signed = name not in ("uint8", "bool")
        self.itemsize = self.np.itemsize
        self._category = category  # 0 bool, 1 integer, 2 floating, 3 complex
        self._rank = rank

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_complex(self):
        return {float64: complex128}.get(self, complex64)

    def to_real(self):
        return {complex128: float64, complex64: float32}.get(self, self)


def _dtype_by_name(name):
    return _BY_NAME[name]


bool_ = dtype("bool", np.bool_, 0, 0)
uint8 = dtype("uint8", np.uint8, 1, 1)
int8 = dtype("int8", np.int8, 1, 2)
int16 = dtype("int16", np.int16, 1, 3)
int32 = dtype("int32", np.int32, 1, 4)
int64 = dtype("int64", np.int64, 1, 5)
float16 = dtype("float16", np.float16, 2, 6)
float32 = dtype("float32", np.float32, 2, 7)
float64 = dtype("float64", np.float64, 2, 8)
complex64 = dtype("complex64", np.complex64, 3, 9)
complex128 = dtype("complex128", np.complex128, 3, 10)

ALL_DTYPES = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64,
              complex64, complex128)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NP = {d.np: d for d in ALL_DTYPES}
ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64,
           "int": int32, "short": int16, "bool": bool_, "cfloat": complex64,
           "cdouble": complex128}


def from_numpy_dtype(npdt):
    try:
        return _BY_NP[np.dtype(npdt)]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(npdt)}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
            "uint8, and bool.") from None


def to_dtype(d):
    """Accept an ember dtype, a NumPy dtype, a Python type or a name."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str):
        name = d[6:] if d.startswith("torch.") else d
        if name in _BY_NAME:
            return _BY_NAME[name]
        if name in ALIASES:
            return ALIASES[name]
    if isinstance(getattr(d, "dtype", None), dtype):  # ember.FloatTensor and friends
        return d.dtype
    return from_numpy_dtype(d)


_default_dtype = [float32]


def get_default_dtype():
    return _default_dtype[0]


def set_default_dtype(d):
    d = to_dtype(d)
    if d not in (float16, float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_dtype[0] = d


# Promotion table: promote(a, b) for two dtypes of any category.
def _promote_pair(a, b):
    if a is b:
        return a
    if a._category == b._category:
        if a._category == 1 and (a is uint8) != (b is uint8):
            other = b if a is uint8 else a
            # uint8 with a signed int: smallest signed type holding both
            return int16 if other is int8 else other
        return a if a._rank > b._rank else b
    hi, lo = (a, b) if a._category > b._category else (b, a)
    if hi.is_complex and lo is float64:
        return complex128
    return hi


_PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL_DTYPES for b in ALL_DTYPES}


def promote_types(a, b):
    return _PROMOTE[to_dtype(a), to_dtype(b)]


def _combine_categories(higher, lower):
    """torch's rule for letting a lower-priority group raise the category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return _PROMOTE[higher, lower]
    return higher


def scalar_dtype(x):
    """The dtype torch gives a Python number when it is a wrapped operand."""
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return int64
    if isinstance(x, float):
        return _default_dtype[0]
    if isinstance(x, complex):
        return complex128 if _default_dtype[0] is float64 else complex64
    if isinstance(x, np.generic):
        return from_numpy_dtype(x.dtype)
    raise TypeError(f"unsupported scalar type {type(x).__name__}")


def result_type_of(dim_dtypes, zero_dtypes, scalar_dtypes):
    """torch.result_type over three priority groups: tensors with dimensions,
    0-d tensors, and Python numbers."""
    groups = []
    for g in (dim_dtypes, zero_dtypes, scalar_dtypes):
        r = None
        for d in g:
            r = d if r is None else _PROMOTE[r, d]
        groups.append(r)
    return _combine_categories(groups[0], _combine_categories(groups[1], groups[2]))


# ----------------------------------------------------------------------------
# devices and array modules

_cupy = None
_cupy_checked = False


def cupy_module():
    """CuPy if it imports and sees a GPU, else None (checked once)."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy
            if cupy.cuda.runtime.getDeviceCount() > 0:
                _cupy = cupy
        except Exception:
            _cupy = None
    return _cupy


class device:
    """``ember.device('cpu' | 'cuda' | 'cuda:0')`` or ``device('cuda', 1)``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and index is None:
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type!r})")
        if ":" in type:
            if index is not None:
                raise ValueError("type (string) must not include an index because index was passed "
                                 f"explicitly: {type}")
            type, _, idx = type.partition(":")
            try:
                index = int(idx)
            except ValueError:
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'") from None
        if type not in ("cpu", "cuda", "meta"):
            raise RuntimeError(
                "Expected one of cpu, cuda, meta device type at start of device string: " + type)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative")
        self.type = type
        self.index = index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        _device_stack.append(self)
        return self

    def __exit__(self, *exc):
        _device_stack.pop()


CPU = device("cpu")
_device_stack = []


def default_device():
    return _device_stack[-1] if _device_stack else CPU


def require_cupy():
    """CuPy, or torch's error for a build without CUDA (an AssertionError)."""
    cp = cupy_module()
    if cp is None:
        raise AssertionError("Torch not compiled with CUDA enabled: ember found no CUDA device "
                             "(install CuPy with pip install 'ember[cuda]' and run on a machine "
                             "with an NVIDIA GPU)")
    return cp


def to_device(d):
    """Normalise a device argument; ``None`` means the default device."""
    if d is None:
        return default_device()
    if isinstance(d, device):
        dev = d
    else:
        dev = device(d)
    if dev.type == "cuda":
        cp = require_cupy()
        if dev.index is None:
            dev = device("cuda", cp.cuda.runtime.getDevice())
        if dev.index >= cp.cuda.runtime.getDeviceCount():
            raise RuntimeError(f"CUDA error: invalid device ordinal {dev.index}")
    return dev


def xp_of_device(dev):
    return np if dev.type == "cpu" else cupy_module()


def device_of_array(a):
    if type(a) is np.ndarray:
        return CPU
    return device("cuda", a.device.id)


def array_module(a):
    """The array module (numpy or cupy) that owns array ``a``."""
    if type(a) is np.ndarray:
        return np
    return _cupy


def move_array(a, dev, non_blocking=False):
    """Copy array ``a`` to device ``dev`` (no copy if already there). With
    ``non_blocking``, a copy from pinned host memory is queued on the current
    stream without waiting for it, as torch does."""
    if dev.type == "cpu":
        return a if type(a) is np.ndarray else a.get()
    if type(a) is not np.ndarray and a.device.id == dev.index:
        return a
    cp = _cupy
    with cp.cuda.Device(dev.index):
        if type(a) is not np.ndarray:
            return a.copy()  # CuPy copies to the current device
        if non_blocking and a.flags.c_contiguous and is_pinned(a):
            out = cp.empty(a.shape, a.dtype)
            out.set(a, stream=cp.cuda.get_current_stream())
            return out
        return cp.asarray(a)


def _host_root(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a.base


def is_pinned(a):
    """Whether host array ``a`` lives in page-locked memory from CuPy."""
    return (type(a) is np.ndarray and _cupy is not None
            and isinstance(_host_root(a), _cupy.cuda.PinnedMemoryPointer))


def pin_array(a):
    """A copy of host array ``a`` in page-locked memory (``a`` if already there)."""
    if is_pinned(a):
        return a
    import cupyx
    out = cupyx.empty_pinned(a.shape, a.dtype)
    out[...] = a
    return out


# ----------------------------------------------------------------------------
# random number generation


class Generator:
    """A seeded stream of random numbers (NumPy's PCG64 under the hood)."""

    def __init__(self, device="cpu"):
        self.device = to_device(device) if device != "cpu" else CPU
        self._seed = 67280421310721
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        seed = int(seed)
        self._seed = seed
        self._rng = np.random.default_rng(seed & 0xFFFFFFFFFFFFFFFF)
        return self

    def seed(self):
        s = int.from_bytes(np.random.SeedSequence().entropy.to_bytes(16, "little")[:8], "little")
        s &= 0x7FFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    # The state is plain bytes, never a pickle: states travel inside
    # checkpoints, and set_state must not run code from a file.
    _STATE_BYTES = 56  # seed (16, signed), PCG64 state (16), inc (16), has_uint32 (4), uinteger (4)

    def get_state(self):
        from . import _tensor
        st = self._rng.bit_generator.state
        raw = (self._seed.to_bytes(16, "little", signed=True)
               + st["state"]["state"].to_bytes(16, "little")
               + st["state"]["inc"].to_bytes(16, "little")
               + st["has_uint32"].to_bytes(4, "little") + st["uinteger"].to_bytes(4, "little"))
        return _tensor.Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, state):
        raw = state.numpy().tobytes() if state.dtype is uint8 else b""
        if len(raw) != self._STATE_BYTES:
            raise RuntimeError(f"Expected a generator state of {self._STATE_BYTES} bytes (a uint8 "
                               f"tensor from get_state()), got {state.dtype} of {state.numel()} "
                               "elements")
        self._seed = int.from_bytes(raw[:16], "little", signed=True)
        self._rng = np.random.default_rng()
        self._rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[16:32], "little"),
                      "inc": int.from_bytes(raw[32:48], "little")},
            "has_uint32": int.from_bytes(raw[48:52], "little"),
            "uinteger": int.from_bytes(raw[52:56], "little")}
        return self

    @property
    def rng(self):
        return self._rng


default_generator = Generator()
_cuda_generators = {}


def cuda_generator(index):
    """The default generator of CUDA device ``index`` (made on first use)."""
    g = _cuda_generators.get(index)
    if g is None:
        g = _cuda_generators[index] = Generator(device("cuda", index))
    return g


def rng_of(generator, dev=None):
    """The NumPy stream of ``generator``; without one, the default generator
    of device ``dev``: CUDA devices have their own, seeded with torch's."""
    if generator is None and dev is not None and dev.type == "cuda":
        generator = cuda_generator(dev.index)
    return (generator or default_generator)._rng
