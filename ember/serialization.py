"""``ember.save`` / ``ember.load``: checkpoints in PyTorch's own file format.

Files interchange with real PyTorch in both directions, and PyTorch is never
imported.

Writing (the zip format ``torch.save`` has used since 1.6): a ZIP_STORED
archive whose entries sit under ``<file stem>/`` (``archive/`` for a file
object): ``data.pkl`` (the object, pickle protocol 2), ``byteorder``,
``data/<key>`` (the raw bytes of each storage, 64-byte aligned through an
``FB`` padding field) and ``version``. The pickle names torch's own globals
(``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``, ...), which the
standard pickler cannot emit for objects it cannot import, so ``_Pickler``
writes those GLOBAL opcodes itself. A tensor is saved as a view of its
storage: the root NumPy/CuPy array under its ``_data``, written once however
many tensors view it, with the tensor's element offset and strides; tensors
that shared memory share it again after loading. A ``.grad`` is not saved
(as in torch). A save to a path goes through a temporary file in the same
folder that replaces the target only when complete, so a failing or killed
save leaves the previous checkpoint intact.

Whole modules (``ember.save(model, path)``) are pickled as their ember
classes, their tensors through the same storages. ``ember.load(...,
weights_only=False)`` rebuilds them. Real ``torch.load`` refuses such a file
with ``weights_only=True``; with ``weights_only=False`` it imports ember and
rebuilds ember modules that hold torch tensors, which ember cannot run:
share models with PyTorch through their ``state_dict``.

Reading: zip checkpoints written by torch or by ember, and the legacy
(pre-1.6) format. ``weights_only=True`` (the default, as in torch >= 2.6)
unpickles with an allowlist: tensors, Parameters, dtypes, devices, sizes,
containers, numbers and strings; no other global is ever imported or called,
so an untrusted file cannot run code. ``weights_only=False`` maps
``torch.*`` (and ``torchvision.*``) globals to ember's counterparts, so a
whole torch model of standard layers loads as ember modules.

dtypes: every dtype ember has. torch's bfloat16 has no NumPy counterpart: it
loads exactly as float32, with a warning (saving such a tensor again writes
float32). Other dtypes ember lacks (uint16/32/64, float8, complex32, qint)
and sparse, quantized or nested tensors raise a RuntimeError naming them.
TorchScript archives are refused (use ``torch.jit.load``).
"""
import _compat_pickle
import collections
import contextlib
import io
import mmap as _mmap
import os
import pickle
import secrets
import stat
import struct
import sys
import warnings
import zipfile
import zlib

import numpy as np

from . import _backend as B
from ._tensor import Tensor, Size, _wrap, _root_array, _ptr, _contiguous_strides

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals", "DEFAULT_PROTOCOL"]

DEFAULT_PROTOCOL = 2
_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL_VERSION = 1001
_ALIGNMENT = 64
_FILE_FORMAT_VERSION = b"3\n"

# ---------------------------------------------------------------------------
# dtypes <-> torch names

_STORAGE_NAME = {B.float64: "DoubleStorage", B.float32: "FloatStorage", B.float16: "HalfStorage",
                 B.int64: "LongStorage", B.int32: "IntStorage", B.int16: "ShortStorage",
                 B.int8: "CharStorage", B.uint8: "ByteStorage", B.bool_: "BoolStorage",
                 B.complex64: "ComplexFloatStorage", B.complex128: "ComplexDoubleStorage"}


class _ForeignDtype:
    """A torch dtype ember has no counterpart for (found in a file)."""
    __slots__ = ("name", "itemsize")

    def __init__(self, name, itemsize):
        self.name, self.itemsize = name, itemsize

    def __repr__(self):
        return "torch." + self.name


_BFLOAT16 = _ForeignDtype("bfloat16", 2)
_FOREIGN = {d.name: d for d in [_BFLOAT16] + [_ForeignDtype(n, size) for n, size in (
    ("uint16", 2), ("uint32", 4), ("uint64", 8), ("complex32", 4), ("float8_e4m3fn", 1),
    ("float8_e5m2", 1), ("float8_e4m3fnuz", 1), ("float8_e5m2fnuz", 1), ("float8_e8m0fnu", 1),
    ("qint8", 1), ("quint8", 1), ("qint32", 4), ("quint4x2", 1), ("quint2x4", 1))]}
# torch's alias names as they may appear in files
_DTYPE_ALIASES = {"float": B.float32, "double": B.float64, "half": B.float16, "long": B.int64,
                  "int": B.int32, "short": B.int16, "cfloat": B.complex64,
                  "cdouble": B.complex128, "chalf": _FOREIGN["complex32"]}


def _dtype_by_torch_name(name):
    return B._BY_NAME.get(name) or _DTYPE_ALIASES.get(name) or _FOREIGN.get(name)


class _StorageType:
    """Stand-in for ``torch.FloatStorage`` & co. in a file: its element type."""
    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype

    def __repr__(self):
        return f"StorageType(dtype=torch.{self.dtype.name})"


_STORAGE_TYPES = {name: _StorageType(name, d) for d, name in _STORAGE_NAME.items()}
_STORAGE_TYPES["BFloat16Storage"] = _StorageType("BFloat16Storage", _BFLOAT16)
_STORAGE_TYPES["UntypedStorage"] = _StorageType("UntypedStorage", B.uint8)


# ---------------------------------------------------------------------------
# writing


class _Global:
    """A global named in the pickle without being imported (``torch...``)."""
    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # only a marker; pickle requires reduce functions be callable
        raise TypeError(f"{self.module}.{self.name} is a placeholder for pickling")


_GLOBALS = {}


def _global(module, name):
    g = _GLOBALS.get((module, name))
    if g is None:
        g = _GLOBALS[module, name] = _Global(module, name)
    return g


class _StorageRef:
    """One storage being written: a contiguous root array seen as ``dtype``."""
    __slots__ = ("key", "root", "dtype", "location", "numel", "legacy")

    def __init__(self, key, root, dtype, legacy):
        self.key, self.root, self.dtype, self.legacy = key, root, dtype, legacy
        self.location = "cpu" if type(root) is np.ndarray else f"cuda:{root.device.id}"
        self.numel = root.nbytes // dtype.itemsize

    def pid(self):
        pid = ("storage", _global("torch", _STORAGE_NAME[self.dtype]), self.key, self.location,
               self.numel)
        return pid + (None,) if self.legacy else pid

    def buffer(self):
        """The storage's bytes (host memory, memory order), without copying on the CPU."""
        r = B.move_array(self.root, B.CPU)
        flat = r.reshape(-1) if r.flags.c_contiguous else r.T.reshape(-1)
        return memoryview(flat.view(np.uint8))


class _StorageTable:
    """The storages of one save, keyed by the identity of their root array."""

    def __init__(self, legacy=False):
        self.refs = {}
        self.legacy = legacy

    def locate(self, arr, dtype):
        """``(storage, element offset, element strides)`` of array ``arr``."""
        if isinstance(arr, np.generic):
            arr = np.asarray(arr)
        isz = arr.itemsize
        root = _root_array(arr)
        off = _ptr(arr) - _ptr(root)
        shareable = (arr.size > 0 and (root.flags.c_contiguous or root.flags.f_contiguous)
                     and off % isz == 0 and root.nbytes % isz == 0
                     and all(s >= 0 and s % isz == 0 for s in arr.strides))
        ref = self.refs.get(id(root)) if shareable else None
        if ref is not None and ref.dtype is not dtype:
            shareable = False  # memory viewed as another dtype: give this tensor its own copy
        if not shareable:
            root = B.array_module(arr).ascontiguousarray(arr)
            off, ref = 0, None
            strides = _contiguous_strides(arr.shape)
        else:
            strides = tuple(s // isz for s in arr.strides)
        if ref is None:
            ref = _StorageRef(str(len(self.refs)), root, dtype, self.legacy)
            # keyed by id(root): the table keeps ``root`` alive, so the id stays unique
            self.refs[id(root)] = ref
        return ref, off // isz, strides


def _parameter_class():
    try:
        from .nn.parameter import Parameter
    except ImportError:
        return None
    return Parameter


def _buffer_class():
    try:
        from .nn.parameter import Buffer
    except ImportError:
        return None
    return Buffer


class _Pickler(pickle._Pickler):
    """The standard (pure Python) pickler, taught to write tensors as torch
    does: ``_rebuild_tensor_v2(<persistent storage id>, offset, size, stride,
    requires_grad, OrderedDict())``, plus torch's names for dtypes, devices
    and sizes. NumPy scalars are written as Python numbers."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, protocol, table):
        super().__init__(file, protocol)
        self.table = table
        self.parameter = _parameter_class()
        self.buffer = _buffer_class()

    def save_marker(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    dispatch[_Global] = save_marker

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, np.generic):
            obj = obj.item()
        elif type(obj) is B.dtype:
            obj = _global("torch", obj.name)
        super().save(obj, save_persistent_id)

    def persistent_id(self, obj):
        return obj.pid() if type(obj) is _StorageRef else None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self.reduce_tensor(obj)
        t = type(obj)
        if t is Size:
            return _global("torch", "Size"), (tuple(obj),)
        if t is B.device:
            return _global("torch", "device"), ((obj.type,) if obj.index is None
                                                 else (obj.type, obj.index))
        return NotImplemented

    def reduce_tensor(self, t):
        cls = type(t)
        state = getattr(t, "__dict__", None) or None
        if cls is self.parameter and self.parameter is not None:
            data = _wrap(t._data)
            if state:
                return (_global("torch._utils", "_rebuild_parameter_with_state"),
                        (data, t._rg, collections.OrderedDict(), state))
            return (_global("torch._utils", "_rebuild_parameter"),
                    (data, t._rg, collections.OrderedDict()))
        ref, offset, stride = self.table.locate(t._data, t.dtype)
        args = (ref, offset, tuple(t._data.shape), stride, t._rg, collections.OrderedDict())
        rebuild = _global("torch._utils", "_rebuild_tensor_v2")
        if cls is Tensor or cls is self.buffer:   # torch keeps buffers as plain tensors
            return rebuild, args
        # a Tensor subclass: torch's _rebuild_from_type_v2(func, type, args, state)
        return _global("torch._tensor", "_rebuild_from_type_v2"), (rebuild, cls, args, state)


def _is_path(f):
    return isinstance(f, (str, os.PathLike))


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Save ``obj`` to ``f`` (a path or a writable binary file object) in
    PyTorch's checkpoint format; ``torch.load`` reads the result."""
    if pickle_module is not pickle:
        raise ValueError("ember.save pickles with its own pickler: pickle_module must be the "
                         f"standard pickle module, got {pickle_module!r}")

    def write(fobj, archive):
        table = _StorageTable(legacy=not _use_new_zipfile_serialization)
        if table.legacy:
            _write_legacy(obj, fobj, pickle_protocol, table)
        else:
            buf = io.BytesIO()
            _Pickler(buf, pickle_protocol, table).dump(obj)
            _write_zip(fobj, archive, buf.getbuffer(), table, not _disable_byteorder_record)

    if _is_path(f):
        path = os.fsdecode(os.fspath(f))
        stem = os.path.basename(path)
        stem = stem[:stem.rfind(".")] if "." in stem else stem
        _write_file_atomically(path, lambda fobj: write(fobj, stem or "archive"))
    elif hasattr(f, "write"):
        write(f, "archive")
    else:
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             f"'write' attribute, got {type(f).__name__}")


def _write_zip(fobj, archive, pickled, table, byteorder_record):
    with zipfile.ZipFile(fobj, "w", compression=zipfile.ZIP_STORED) as zf:
        _write_record(zf, f"{archive}/data.pkl", pickled)
        if byteorder_record:
            _write_record(zf, f"{archive}/byteorder", sys.byteorder.encode())
        for ref in table.refs.values():
            _write_record(zf, f"{archive}/data/{ref.key}", ref.buffer())
        _write_record(zf, f"{archive}/version", _FILE_FORMAT_VERSION)


def _write_record(zf, name, data):
    """One stored entry whose payload starts at a multiple of 64 bytes (the
    local header's extra field carries an ``FB`` padding block, as torch's
    writer does)."""
    nbytes = memoryview(data).nbytes
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = nbytes
    zip64 = nbytes * 1.05 > zipfile.ZIP64_LIMIT  # zipfile's own rule for a zip64 local header
    header = 30 + len(name.encode("utf-8")) + 4 + (20 if zip64 else 0)
    pad = -(zf.start_dir + header) % _ALIGNMENT
    info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
    with zf.open(info, "w", force_zip64=zip64) as out:
        out.write(data)


def _write_legacy(obj, fobj, protocol, table):
    sys_info = {"protocol_version": _LEGACY_PROTOCOL_VERSION,
                "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    for header in (_MAGIC_NUMBER, _LEGACY_PROTOCOL_VERSION, sys_info):
        pickle.dump(header, fobj, protocol=protocol)
    _Pickler(fobj, protocol, table).dump(obj)
    refs = sorted(table.refs.values(), key=lambda r: r.key)
    pickle.dump([r.key for r in refs], fobj, protocol=protocol)
    for ref in refs:
        fobj.write(struct.pack("<q", ref.numel))
        fobj.write(ref.buffer())


def _write_file_atomically(path, write):
    """Write through a temporary file in the target's folder, then rename it
    over the target: the target is either the old or the new complete file."""
    target = os.path.realpath(path) if os.path.islink(path) else path
    if os.path.exists(target) and not os.path.isfile(target):
        with open(target, "wb") as fobj:  # a device or pipe: nothing to replace
            write(fobj)
        return
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise RuntimeError(f"Parent directory {folder} does not exist.")
    while True:
        tmp = os.path.join(folder, f".{os.path.basename(target)}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as fobj:
            write(fobj)
            fobj.flush()
            os.fsync(fobj.fileno())
        if os.path.exists(target):
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------
# reading: storages and tensors


class _LoadedStorage:
    """A storage read from a checkpoint: its bytes (a 1-D uint8 array on the
    device it is restored to), its element type and saved location. This is
    what a callable ``map_location(storage, location)`` receives; it may
    return ``storage``, ``storage.cpu()``, ``storage.cuda(i)`` or None."""

    __slots__ = ("raw", "dtype", "location", "_typed", "_swap")

    def __init__(self, raw, dtype, location, swap=False):
        self.raw, self.dtype, self.location = raw, dtype, location
        self._typed = {}
        self._swap = swap

    @property
    def device(self):
        return B.device_of_array(self.raw)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    def nbytes(self):
        return self.raw.size

    def size(self):
        return self.raw.size // self.dtype.itemsize

    def to(self, device):
        dev = B.to_device(device)
        if dev == self.device:
            return self
        return _LoadedStorage(B.move_array(self.raw, dev), self.dtype, self.location)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else B.device("cuda", device)
                       if isinstance(device, int) else device)

    def finish(self):
        """Make the bytes native: swap a big-endian file's elements in place."""
        if self._swap and self.dtype.itemsize > 1:
            self.raw.view(_element_np(self.dtype)).byteswap(inplace=True)
        self._swap = False

    def typed(self, dtype):
        """The storage as a flat array of ember dtype ``dtype`` (bfloat16 is
        widened to float32, once per storage)."""
        arr = self._typed.get(dtype)
        if arr is None:
            if self.raw.size % dtype.itemsize:
                raise RuntimeError(f"a storage of {self.raw.size} bytes cannot hold "
                                   f"{dtype} elements: the checkpoint is corrupt")
            if dtype is _BFLOAT16:
                _widened.append(True)
                arr = _bfloat16_to_float32(self.raw)
            elif isinstance(dtype, _ForeignDtype):
                raise _unsupported_dtype(dtype)
            else:
                arr = self.raw.view(dtype.np)
            self._typed[dtype] = arr
        return arr


def _bfloat16_to_float32(raw):
    """bfloat16 bytes (a uint8 NumPy or CuPy array) as float32, exactly."""
    return (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)


def _unsupported_dtype(dtype):
    return RuntimeError(f"ember cannot load a tensor of dtype {dtype}: ember has no such dtype "
                        "(convert it in PyTorch first, e.g. to float32 or int64)")


def _element_np(dtype):
    """The NumPy type whose byte order matches one element of ``dtype``."""
    if dtype is _BFLOAT16 or dtype.itemsize == 2 and isinstance(dtype, _ForeignDtype):
        return np.uint16
    if isinstance(dtype, _ForeignDtype):
        return {1: np.uint8, 4: np.uint32, 8: np.uint64}[dtype.itemsize]
    return dtype.np


_widened = []   # set while loading when a bfloat16 storage was widened to float32


def _tensor_from(storage, dtype, offset, size, stride, requires_grad):
    dtype = storage.dtype if dtype is None else dtype
    flat = storage.typed(dtype)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride) or any(s < 0 for s in size + stride) or offset < 0:
        raise RuntimeError(f"invalid tensor in checkpoint: size {size}, stride {stride}, "
                           f"offset {offset}")
    xp = B.array_module(flat)
    if 0 in size:
        arr = xp.empty(size, flat.dtype)
    else:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= flat.size:
            raise RuntimeError(f"a tensor of size {list(size)} and stride {list(stride)} at "
                               f"offset {offset} does not fit in its storage of {flat.size} "
                               "elements: the checkpoint is corrupt")
        isz = flat.itemsize
        if xp is np:
            arr = np.ndarray(size, flat.dtype, buffer=flat, offset=offset * isz,
                             strides=tuple(s * isz for s in stride))
        else:
            arr = xp.lib.stride_tricks.as_strided(flat[offset:], size,
                                                  tuple(s * isz for s in stride))
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


# torch._utils' rebuild functions, as ember builds them

def _rebuild_tensor(storage, storage_offset, size, stride):
    return _tensor_from(storage, None, storage_offset, size, stride, False)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    return _tensor_from(storage, None, storage_offset, size, stride, requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    return _tensor_from(storage, dtype, storage_offset, size, stride, requires_grad)


def _new_parameter(data, requires_grad):
    Parameter = _parameter_class()
    if Parameter is None:
        raise RuntimeError("loading an nn.Parameter needs ember.nn.Parameter, which is missing")
    return Parameter(data, requires_grad)


def _set_state(obj, state):
    """Python attributes of a tensor subclass or Parameter (``__dict__`` or a
    ``(__dict__, slots)`` pair)."""
    dict_state, slots = state if isinstance(state, tuple) and len(state) == 2 else (state, None)
    for k, v in (dict_state or {}).items():
        setattr(obj, k, v)
    for k, v in (slots or {}).items():
        setattr(obj, k, v)
    return obj


def _rebuild_parameter(data, requires_grad, backward_hooks):
    return _new_parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_state(_new_parameter(data, requires_grad), state)


def _rebuild_from_type_v2(func, new_type, args, state):
    t = func(*args)
    if type(t) is not new_type:
        if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
            raise pickle.UnpicklingError(f"cannot rebuild a tensor as {new_type!r}")
        rg = t._rg
        t = new_type._from(t)
        t._rg = rg
    return _set_state(t, state) if state else t


def _unsupported_rebuild(kind):
    def rebuild(*args, **kwargs):
        raise RuntimeError(f"ember cannot load {kind} tensors (found one in the checkpoint); "
                           "convert it to a dense CPU tensor in PyTorch before saving")
    rebuild.__name__ = f"_rebuild_{kind}_unsupported"
    return rebuild


def _encode(obj, encoding="latin1"):
    """``_codecs.encode`` as protocol 2 uses it for bytes (latin-1 only)."""
    if encoding not in ("latin1", "latin-1") or not isinstance(obj, str):
        raise pickle.UnpicklingError(f"_codecs.encode is only allowed with latin1, got "
                                     f"{encoding!r}")
    return obj.encode("latin1")


def _get_layout(name):
    return name


_SAFE = None


def _safe_globals_table():
    """torch's names that a weights-only load may use, and ember's stand-ins."""
    global _SAFE
    if _SAFE is not None:
        return _SAFE
    t = {"collections.OrderedDict": collections.OrderedDict,
         "collections.Counter": collections.Counter,
         "builtins.set": set, "builtins.frozenset": frozenset, "builtins.bytearray": bytearray,
         "builtins.complex": complex, "_codecs.encode": _encode,
         "torch.Size": Size, "torch.device": B.device, "torch.Tensor": Tensor,
         "torch.serialization._get_layout": _get_layout,
         "torch._utils._rebuild_tensor": _rebuild_tensor,
         "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
         "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
         "torch._utils._rebuild_parameter": _rebuild_parameter,
         "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
         "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2}
    for kind, fn in (("sparse", "_rebuild_sparse_tensor"), ("quantized", "_rebuild_qtensor"),
                     ("nested", "_rebuild_nested_tensor"),
                     ("meta", "_rebuild_meta_tensor_no_storage"),
                     ("wrapper subclass", "_rebuild_wrapper_subclass"),
                     ("device (numpy)", "_rebuild_device_tensor_from_numpy"),
                     ("device", "_rebuild_device_tensor_from_cpu_tensor")):
        t["torch._utils." + fn] = _unsupported_rebuild(kind)
    for name, st in _STORAGE_TYPES.items():
        for module in ("torch", "torch.cuda", "torch.storage"):
            t[f"{module}.{name}"] = st
    for name in list(B._BY_NAME) + list(_DTYPE_ALIASES) + list(_FOREIGN):
        t["torch." + name] = _dtype_by_torch_name(name)
    _SAFE = t
    return t


# ---------------------------------------------------------------------------
# the allowlist users extend

_user_globals = {}   # "module.qualname" -> object


def _global_name(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def add_safe_globals(safe_globals):
    """Allow these globals in ``weights_only`` loads. Entries are objects
    (``ember.nn.Linear`` also allows the file's ``torch.nn...Linear``) or
    ``(object, "module.name")`` pairs naming the global the file uses."""
    for g in safe_globals:
        if isinstance(g, tuple):
            obj, name = g
            _user_globals[name] = obj
        else:
            _user_globals[_global_name(g)] = g


def get_safe_globals():
    return list(_user_globals.values())


def clear_safe_globals():
    _user_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Within the block, also allow ``safe_globals`` (as ``add_safe_globals``)."""
    saved = dict(_user_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _user_globals.clear()
        _user_globals.update(saved)


def _ember_counterpart(module, name):
    """ember's object for a global of torch (or torchvision), or None: for
    ``torch.a.b.Name`` it tries ``ember.a.b``, then ``ember.a``, then ``ember``."""
    import importlib
    if module == "torchvision" or module.startswith("torchvision."):
        parts = ["ember", "vision"] + module.split(".")[1:]
    elif module == "torch" or module.startswith("torch."):
        parts = ["ember"] + module.split(".")[1:]
    else:
        return None
    for n in range(len(parts), 0, -1):
        try:
            mod = importlib.import_module(".".join(parts[:n]))
        except ImportError:
            continue
        obj = mod
        for attr in name.split("."):
            obj = getattr(obj, attr, None)
            if obj is None:
                break
        if obj is not None:
            return obj
    return None


# ---------------------------------------------------------------------------
# unpicklers


_UNSAFE_MESSAGE = ("Re-running `ember.load` with `weights_only` set to `False` will likely "
                   "succeed, but it can result in arbitrary code execution. Do it only if you got "
                   "the file from a trusted source.")


def _weights_only_error(message, name):
    return pickle.UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two options, "
        "do those steps only if you trust the source of the checkpoint."
        f"\n\t(1) {_UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with `weights_only=True` "
        "please check the recommended steps in the following error message."
        f"\n\tWeightsUnpickler error: {message}\n(file: {name})")


class _OpcodeTable(dict):
    def __missing__(self, key):
        raise pickle.UnpicklingError(f"Unsupported operand {bytes([key])!r} in a weights-only "
                                     "load (the pickle uses an opcode the allowlist does not "
                                     "permit, or the file is corrupt)")


class _WeightsUnpickler(pickle._Unpickler):
    """The restricted unpickler of ``weights_only=True``: globals come only
    from the allowlist (nothing is imported), BUILD only fills OrderedDicts
    and allowlisted types, and the opcodes that instantiate classes or reach
    the extension registry (INST, OBJ, EXT*) are refused."""

    dispatch = _OpcodeTable({k: v for k, v in pickle._Unpickler.dispatch.items()
                             if k not in (pickle.INST[0], pickle.OBJ[0], pickle.EXT1[0],
                                          pickle.EXT2[0], pickle.EXT4[0])})

    def __init__(self, file, persistent_load, **kwargs):
        super().__init__(file, **kwargs)
        self._persistent_load = persistent_load

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] in ("storage", "module")):
            raise pickle.UnpicklingError(f"Only persistent ids that start with 'storage' are "
                                         f"supported, got {pid!r}")
        if pid[0] == "module":
            raise pickle.UnpicklingError("a legacy whole-module checkpoint needs "
                                         "weights_only=False")
        return self._persistent_load(pid)

    def find_class(self, module, name):
        if self.proto < 3 and self.fix_imports:  # Python 2 names, as pickle maps them
            module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        full = f"{module}.{name}"
        obj = _safe_globals_table().get(full)
        if obj is not None:
            return obj
        obj = _user_globals.get(full)
        if obj is not None:
            return obj
        counterpart = _ember_counterpart(module, name)
        if counterpart is not None and any(counterpart is g for g in _user_globals.values()):
            return counterpart
        hint = counterpart if counterpart is not None else full
        hint = _global_name(hint) if not isinstance(hint, str) else hint
        raise pickle.UnpicklingError(
            f"Unsupported global: GLOBAL {full} was not an allowed global by default. Please use "
            f"`ember.serialization.add_safe_globals([{hint}])` or the "
            f"`ember.serialization.safe_globals([{hint}])` context manager to allowlist this "
            "global if you trust this class/function.")

    def load_build(self):
        inst = self.stack[-2]
        if type(inst) in (collections.OrderedDict, collections.Counter) \
                and isinstance(self.stack[-1], dict):
            inst.__dict__.update(self.stack.pop())
        elif any(type(inst) is g for g in _user_globals.values()):
            super().load_build()
        else:
            raise pickle.UnpicklingError(
                f"Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                f"add_safe_globals, but got {type(inst)}")

    dispatch[pickle.BUILD[0]] = load_build


class _FullUnpickler(pickle.Unpickler):
    """``weights_only=False``: any global, with torch's names mapped to ember."""

    def __init__(self, file, persistent_load, **kwargs):
        super().__init__(file, **kwargs)
        self._persistent_load = persistent_load

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and pid and pid[0] == "module":
            return pid[1]  # legacy whole-module files name their module classes this way
        return self._persistent_load(pid)

    def find_class(self, module, name):
        obj = _safe_globals_table().get(f"{module}.{name}")
        if obj is not None:
            return obj
        if module.split(".")[0] in ("torch", "torchvision"):
            obj = _ember_counterpart(module, name)
            if obj is None:
                raise AttributeError(f"ember has no counterpart of {module}.{name}, which this "
                                     "checkpoint needs")
            return obj
        return super().find_class(module, name)


# ---------------------------------------------------------------------------
# load


_CUDA_UNAVAILABLE = ("Attempting to deserialize object on a CUDA device but "
                     "torch.cuda.is_available() is False. If you are running on a CPU-only "
                     "machine, please use torch.load with map_location=torch.device('cpu') to "
                     "map your storages to the CPU.")


def _restore(storage, location):
    """Move ``storage`` to ``location`` ('cpu', 'cuda', 'cuda:N')."""
    location = str(location)
    if location == "cpu":
        return storage.to(B.CPU)
    if location.startswith("cuda"):
        from . import cuda
        if not cuda.is_available():
            raise RuntimeError(_CUDA_UNAVAILABLE)
        dev = B.device(location)
        count = cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise RuntimeError(f"Attempting to deserialize object on CUDA device {dev.index} but "
                               f"torch.cuda.device_count() is {count}. Please use torch.load with "
                               "map_location to map your storages to an existing device.")
        return storage.to(dev)
    raise RuntimeError(f"don't know how to restore data location of a storage tagged with "
                       f"{location!r} (ember has cpu and cuda devices; use map_location='cpu')")


def _restorer(map_location):
    if map_location is None:
        return lambda st: _restore(st, st.location)
    if isinstance(map_location, (str, bytes, B.device)):
        loc = map_location.decode() if isinstance(map_location, bytes) else str(map_location)
        return lambda st: _restore(st, loc)
    if isinstance(map_location, dict):
        return lambda st: _restore(st, map_location.get(st.location, st.location))
    if callable(map_location):
        def restore(st):
            out = map_location(st, st.location)
            if out is None:
                return _restore(st, st.location)
            if not isinstance(out, _LoadedStorage):
                raise TypeError("map_location must return a storage (the one it was given, or "
                                f"its .cpu()/.cuda() copy) or None, got {type(out).__name__}")
            return out
        return restore
    raise ValueError(f"map_location must be None, a string, a device, a dict or a callable, got "
                     f"{type(map_location).__name__}")


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object saved by ``torch.save`` or ``ember.save`` from ``f`` (a
    path or a readable binary file object). ``weights_only`` (default True)
    refuses anything but tensors, containers and plain data; pass False only
    for files you trust (whole modules need it)."""
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if pickle_module not in (None, pickle):
        raise ValueError("ember.load unpickles with its own unpickler: pickle_module must be "
                         f"None or the standard pickle module, got {pickle_module!r}")
    pickle_load_args.setdefault("encoding", "utf-8")
    restore = _restorer(map_location)
    _widened.clear()
    try:
        return _open_and_load(f, map_location, restore, weights_only, mmap, pickle_load_args)
    finally:
        if _widened:
            _widened.clear()
            warnings.warn("ember has no bfloat16: bfloat16 tensors were loaded as float32 "
                          "(exactly); saving them again writes float32", stacklevel=2)


def _open_and_load(f, map_location, restore, weights_only, mmap, pickle_load_args):

    if _is_path(f):
        path = os.fsdecode(os.fspath(f))
        if path.endswith(".safetensors"):
            if isinstance(map_location, (dict,)) or (callable(map_location) and not
                                                      isinstance(map_location, (str, B.device))):
                raise RuntimeError("Loading a safetensors file takes map_location as a device "
                                   "string or device")
            from .utils import safetensors
            return safetensors.load_file(path, device=str(map_location or "cpu"))
        with open(path, "rb") as fobj:
            return _load(fobj, path, restore, weights_only, mmap, pickle_load_args)
    if not hasattr(f, "read"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             f"'read' attribute, got {type(f).__name__}")
    if mmap:
        raise ValueError("f must be a file path in order to use the mmap argument")
    name = getattr(f, "name", None) or f"<{type(f).__name__}>"
    if not (hasattr(f, "seekable") and f.seekable()):
        f = io.BytesIO(f.read())
    return _load(f, name, restore, weights_only, False, pickle_load_args)


def _load(fobj, name, restore, weights_only, use_mmap, kwargs):
    start = fobj.tell()
    head = fobj.read(4)
    fobj.seek(start)
    unpickler = _WeightsUnpickler if weights_only else _FullUnpickler
    try:
        if head.startswith(b"PK"):
            return _load_zip(fobj, name, restore, unpickler, use_mmap, kwargs)
        if use_mmap:
            raise RuntimeError("mmap can only be used with files saved with "
                               f"`torch.save({name}, _use_new_zipfile_serialization=True)`, please "
                               "torch.save your checkpoint with this option in order to use mmap.")
        if not head:
            raise EOFError(f"Ran out of input: {name} is empty")
        return _load_legacy(fobj, name, restore, unpickler, kwargs)
    except pickle.UnpicklingError as e:
        if weights_only and str(e).startswith(("Unsupported global", "Can only build")):
            raise _weights_only_error(str(e), name) from None
        raise pickle.UnpicklingError(str(e) if name in str(e) else f"{e} (while loading {name})") \
            from None


def _corrupt(name, detail):
    return RuntimeError(f"PytorchStreamReader failed reading zip archive: {detail}. {name} is "
                        "not a complete checkpoint: it is corrupted or truncated (it may not have "
                        "been saved completely, or was modified or transferred incorrectly).")


class _ZipReader:
    """The records of one zip checkpoint."""

    def __init__(self, fobj, name, use_mmap):
        self.fobj, self.name = fobj, name
        try:
            self.zf = zipfile.ZipFile(fobj)
        except (zipfile.BadZipFile, EOFError, struct.error, ValueError) as e:
            raise _corrupt(name, f"failed finding central directory ({e})") from None
        names = self.zf.namelist()
        if not names:
            raise _corrupt(name, "the archive is empty")
        self.prefix = names[0].split("/")[0] + "/" if "/" in names[0] else ""
        self.names = set(names)
        self.mm = None
        if use_mmap:
            self.mm = _mmap.mmap(fobj.fileno(), 0, access=_mmap.ACCESS_COPY)

    def has(self, record):
        return self.prefix + record in self.names

    def read(self, record):
        try:
            return self.zf.read(self.prefix + record)
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file {self.prefix}{record}: "
                               f"file not found in {self.name}") from None
        except (zipfile.BadZipFile, EOFError, struct.error, zlib.error) as e:
            raise _corrupt(self.name, f"record {self.prefix}{record}: {e}") from None

    def read_array(self, record):
        """A record's bytes as a writable uint8 array: read straight into it
        (or mapped, with ``mmap=True``) for stored entries, CRC checked."""
        full = self.prefix + record
        try:
            info = self.zf.getinfo(full)
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file {full}: file not "
                               f"found in {self.name}") from None
        if info.compress_type != zipfile.ZIP_STORED:
            return np.frombuffer(bytearray(self.read(record)), np.uint8)
        self.fobj.seek(info.header_offset)
        header = self.fobj.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise _corrupt(self.name, f"bad local header for {full}")
        n, m = struct.unpack("<HH", header[26:30])
        offset = info.header_offset + 30 + n + m
        if self.mm is not None:
            if offset + info.file_size > len(self.mm):
                raise _corrupt(self.name, f"record {full} runs past the end of the file")
            arr = np.frombuffer(self.mm, np.uint8, count=info.file_size, offset=offset)
        else:
            arr = np.empty(info.file_size, np.uint8)
            self.fobj.seek(offset)
            if self.fobj.readinto(memoryview(arr)) != info.file_size:
                raise _corrupt(self.name, f"record {full} is truncated")
        if zlib.crc32(arr) != info.CRC:
            raise _corrupt(self.name, f"bad CRC-32 for record {full}")
        return arr


def _load_zip(fobj, name, restore, unpickler, use_mmap, kwargs):
    reader = _ZipReader(fobj, name, use_mmap)
    if reader.has("constants.pkl"):
        raise RuntimeError(f"{name} is a TorchScript archive (torch.jit.save); ember cannot load "
                           "TorchScript. Load it with torch.jit.load and save its state_dict.")
    if not (reader.has("version") or reader.has(".data/version")):
        raise RuntimeError(f"PytorchStreamReader failed reading file {reader.prefix}version: file "
                           f"not found in {name}: not a complete checkpoint")
    swap = reader.has("byteorder") and reader.read("byteorder").decode() != sys.byteorder
    storages = {}

    def persistent_load(pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        storage_type, key, location, numel = pid[1:5]
        st = storages.get(key)
        if st is None:
            dtype = storage_type.dtype if isinstance(storage_type, _StorageType) else B.uint8
            raw = reader.read_array(f"data/{key}")
            if raw.size != numel * dtype.itemsize:
                raise _corrupt(name, f"storage data/{key} holds {raw.size} bytes, the pickle "
                                     f"expects {numel} elements of {dtype}")
            st = _LoadedStorage(raw, dtype, location, swap)
            st.finish()
            st = storages[key] = restore(st)
        return st

    data = io.BytesIO(reader.read("data.pkl"))
    return unpickler(data, persistent_load, **kwargs).load()


def _load_legacy(fobj, name, restore, unpickler, kwargs):
    def header():
        return unpickler(fobj, _no_storage, **kwargs).load()

    try:
        magic = header()
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, IndexError) as e:
        if str(e).startswith("Unsupported global"):
            raise  # a plain pickle calling a forbidden global: refused as such
        raise pickle.UnpicklingError(f"{name} is not a PyTorch checkpoint: it is neither a zip "
                                     f"archive nor a legacy pickle checkpoint ({e})") from None
    if magic != _MAGIC_NUMBER:
        raise RuntimeError(f"Invalid magic number; corrupt file? ({name} is not a PyTorch "
                           "checkpoint)")
    version = header()
    if version != _LEGACY_PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version} in {name}")
    sys_info = header()
    swap = isinstance(sys_info, dict) and \
        sys_info.get("little_endian", True) != (sys.byteorder == "little")

    storages = {}   # key -> (storage as created, restored storage)

    def persistent_load(pid):
        if len(pid) < 6 or pid[0] != "storage":
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        storage_type, key, location, numel, view = pid[1:6]
        dtype = storage_type.dtype if isinstance(storage_type, _StorageType) else B.uint8
        if key not in storages:
            st = _LoadedStorage(np.empty(numel * dtype.itemsize, np.uint8), dtype, location, swap)
            storages[key] = (st, restore(st))   # restored before its bytes are read
        if view is None:
            return storages[key][1]
        view_key, offset, size = view
        if view_key not in storages:  # a view into a storage: share its bytes
            base = storages[key][1]
            isz = dtype.itemsize
            st = _LoadedStorage(base.raw[offset * isz:(offset + size) * isz], dtype, location)
            storages[view_key] = (st, st)
        return storages[view_key][1]

    obj = unpickler(fobj, persistent_load, **kwargs).load()
    keys = header()
    for key in keys:
        created, restored = storages[key]
        count = fobj.read(8)
        if len(count) != 8:
            raise RuntimeError(f"{name} is truncated: storage {key} is missing")
        nbytes = struct.unpack("<q", count)[0] * created.dtype.itemsize
        if nbytes != created.raw.size:
            raise RuntimeError(f"storage {key} of {name} holds {nbytes} bytes, the pickle "
                               f"expects {created.raw.size}: the checkpoint is corrupt")
        # read into host memory (the restored storage's own, when it is on the CPU)
        host = restored if type(restored.raw) is np.ndarray else created
        if fobj.readinto(memoryview(host.raw)) != nbytes:
            raise RuntimeError(f"{name} is truncated: storage {key} is incomplete")
        host._swap = swap
        host.finish()
        if host is not restored:
            restored.raw[...] = B.array_module(restored.raw).asarray(host.raw)
        _refresh_widened(restored)
    return obj


def _refresh_widened(storage):
    """Recompute bfloat16->float32 arrays made before the bytes were read
    (legacy files keep their data after the pickle), in place."""
    arr = storage._typed.get(_BFLOAT16)
    if arr is not None:
        arr[...] = _bfloat16_to_float32(storage.raw)


def _no_storage(pid):
    raise pickle.UnpicklingError("a storage reference in a checkpoint header: the file is corrupt")
