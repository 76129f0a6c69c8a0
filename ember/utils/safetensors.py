"""safetensors files for ember tensors: ``save_file``/``load_file``,
``save``/``load`` (bytes), ``save_model``/``load_model`` and ``safe_open``,
with the signatures of ``safetensors.torch``. Files interchange with
``safetensors.torch`` and ``safetensors.numpy`` in both directions.

The format is written and read here rather than through the ``safetensors``
package, which is not needed at all: the format is small (an 8-byte
little-endian header length, a JSON header mapping each name to its dtype,
shape and byte range, then the raw C-order little-endian bytes), and the
package's NumPy API cannot read BF16 tensors (NumPy has no bfloat16) and has
no CuPy path. BF16 tensors load exactly as float32, with a warning; the
dtypes ember lacks (U16/U32/U64, F8_*) raise a RuntimeError. The header is
checked as strictly as the package checks it (size cap, known dtypes,
lengths matching shapes, byte ranges without holes or overlaps).
"""
import json
import os
import struct
import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _wrap, _root_array, _ptr
from .. import serialization as _S

__all__ = ["save", "save_file", "load", "load_file", "save_model", "load_model", "safe_open",
           "SafetensorError"]

_MAX_HEADER = 100_000_000
_CODES = {B.bool_: "BOOL", B.uint8: "U8", B.int8: "I8", B.int16: "I16", B.int32: "I32",
          B.int64: "I64", B.float16: "F16", B.float32: "F32", B.float64: "F64",
          B.complex64: "C64"}
_DTYPES = {v: k for k, v in _CODES.items()}
_FOREIGN = {"BF16": _S._BFLOAT16, "U16": _S._FOREIGN["uint16"], "U32": _S._FOREIGN["uint32"],
            "U64": _S._FOREIGN["uint64"], "F8_E4M3": _S._FOREIGN["float8_e4m3fn"],
            "F8_E5M2": _S._FOREIGN["float8_e5m2"], "F8_E4M3FNUZ": _S._FOREIGN["float8_e4m3fnuz"],
            "F8_E5M2FNUZ": _S._FOREIGN["float8_e5m2fnuz"], "F8_E8M0": _S._FOREIGN["float8_e8m0fnu"]}


class SafetensorError(Exception):
    """A malformed safetensors file or header."""


# ---------------------------------------------------------------------------
# writing


def _shared_groups(tensors):
    """Groups of names whose tensors overlap in memory."""
    spans = []
    for name, t in tensors.items():
        a = t._data
        if a.size:
            dev = 0 if type(a) is np.ndarray else 1 + a.device.id
            lo = _ptr(a) + sum(min(0, (n - 1) * s) for n, s in zip(a.shape, a.strides))
            hi = _ptr(a) + sum(max(0, (n - 1) * s) for n, s in zip(a.shape, a.strides)) + a.itemsize
            spans.append(((dev, lo), (dev, hi), name))
    spans.sort()
    groups, current, end = [], [], None
    for lo, hi, name in spans:
        if current and lo < end:   # starts before the group's memory ends
            current.append(name)
            end = max(end, hi)
        else:
            if len(current) > 1:
                groups.append(current)
            current, end = [name], hi
    if len(current) > 1:
        groups.append(current)
    return groups


def _plan(tensors, metadata):
    """The header bytes and the arrays to write after it, in file order."""
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, ember.Tensor] but received {type(tensors)}")
    for k, v in tensors.items():
        if not isinstance(v, Tensor):
            raise ValueError(f"Key `{k}` is invalid, expected ember.Tensor but received {type(v)}")
    shared = _shared_groups(tensors)
    if shared:
        raise RuntimeError(
            "Some tensors share memory, this will lead to duplicate memory on disk and potential "
            f"differences when loading them again: {shared}.\nA potential way to correctly save "
            "your model is to use `save_model`.")
    header = {}
    if metadata is not None:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError("metadata must be a dict of str to str")
        header["__metadata__"] = dict(metadata)
    order = sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))
    arrays, offset = [], 0
    for name in order:
        t = tensors[name]
        if not t._data.flags.c_contiguous:
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{name}` which is not allowed. "
                "It either means you are trying to save tensors which are reference of each other "
                "in which case it's recommended to save only the full tensors, and reslice at "
                "load time, or simply call `.contiguous()` on your tensor to pack it before "
                "saving.")
        code = _CODES.get(t.dtype)
        if code is None:
            raise ValueError(f"`{name}`: safetensors has no {t.dtype} dtype")
        a = B.move_array(t._data, B.CPU)
        header[name] = {"dtype": code, "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        arrays.append(a)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-(8 + len(raw)) % 8)   # data starts 8-byte aligned
    return struct.pack("<Q", len(raw)) + raw, arrays


def _write(fobj, tensors, metadata):
    head, arrays = _plan(tensors, metadata)
    fobj.write(head)
    for a in arrays:
        fobj.write(memoryview(a.reshape(-1).view(np.uint8)))


def save(tensors, metadata=None):
    """The safetensors bytes of a dict of tensors."""
    head, arrays = _plan(tensors, metadata)
    return head + b"".join(a.tobytes() for a in arrays)


def save_file(tensors, filename, metadata=None):
    """Write a dict of contiguous tensors that share no memory to
    ``filename`` (through a temporary file, as ``ember.save`` does)."""
    _plan(tensors, metadata)  # fail before touching the file
    _S._write_file_atomically(os.fsdecode(os.fspath(filename)),
                              lambda f: _write(f, tensors, metadata))


# ---------------------------------------------------------------------------
# reading


def _parse_header(head_len_bytes, read_header, total):
    if len(head_len_bytes) != 8:
        raise SafetensorError("Error while deserializing header: HeaderTooSmall")
    n = struct.unpack("<Q", head_len_bytes)[0]
    if n > _MAX_HEADER:
        raise SafetensorError("Error while deserializing header: HeaderTooLarge")
    if 8 + n > total:
        raise SafetensorError("Error while deserializing header: InvalidHeaderLength")
    try:
        header = json.loads(read_header(n).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorError(f"Error while deserializing header: InvalidHeaderDeserialization "
                              f"({e})") from None
    if not isinstance(header, dict):
        raise SafetensorError("Error while deserializing header: the header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    entries, end = [], 0
    for name, info in header.items():
        try:
            code, shape, (lo, hi) = info["dtype"], info["shape"], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise SafetensorError(f"Error while deserializing header: bad entry for {name!r}") \
                from None
        dtype = _DTYPES.get(code) or _FOREIGN.get(code)
        if dtype is None:
            raise SafetensorError(f"Error while deserializing header: unknown dtype {code!r}")
        if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)):
            raise SafetensorError(f"Error while deserializing header: bad shape for {name!r}")
        if hi - lo != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise SafetensorError(f"Error while deserializing header: TensorInvalidInfo for "
                                  f"{name!r}")
        entries.append((lo, hi, name, dtype, tuple(shape)))
    entries.sort(key=lambda e: (e[0], e[1]))
    for lo, hi, name, _, _ in entries:
        if lo != end:
            raise SafetensorError(f"Error while deserializing header: InvalidOffset({name!r})")
        end = hi
    if 8 + n + end != total:
        raise SafetensorError("Error while deserializing header: MetadataIncompleteBuffer "
                              "(the data does not match the header: truncated file?)")
    return 8 + n, entries, metadata


def _tensor(raw, dtype, shape, device):
    """A tensor from its little-endian bytes (a writable uint8 array)."""
    if dtype is _S._BFLOAT16:
        arr = _S._bfloat16_to_float32(raw)
    elif isinstance(dtype, _S._ForeignDtype):
        raise _S._unsupported_dtype(dtype)
    else:
        arr = raw.view(dtype.np.newbyteorder("<")).astype(dtype.np, copy=False)
    return _wrap(B.move_array(arr.reshape(shape), device))


def _device(device):
    return B.to_device(device if not isinstance(device, int) else B.device("cuda", device))


def _warn_bf16(entries):
    if any(e[3] is _S._BFLOAT16 for e in entries):
        warnings.warn("ember has no bfloat16: BF16 tensors were loaded as float32 (exactly)",
                      stacklevel=3)


class safe_open:
    """``with safe_open(filename, framework="pt") as f``: the file's
    ``keys()``, ``metadata()`` and ``get_tensor(name)``, reading one tensor at
    a time (ember tensors; NumPy arrays with ``framework="np"``)."""

    def __init__(self, filename, framework="pt", device="cpu"):
        if framework not in ("pt", "np", "numpy"):
            raise ValueError(f"framework must be 'pt' (ember tensors) or 'np', got {framework!r}")
        self._numpy = framework != "pt"
        self._device = _device(device)
        self._f = open(os.fspath(filename), "rb")
        try:
            total = os.fstat(self._f.fileno()).st_size
            self._start, entries, self._metadata = _parse_header(self._f.read(8), self._f.read,
                                                                  total)
        except BaseException:
            self._f.close()
            raise
        self._entries = {e[2]: e for e in entries}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def keys(self):
        return sorted(self._entries)

    def metadata(self):
        return self._metadata

    def get_tensor(self, name):
        _warn_bf16([self._entries[name]])
        t = self._read(name)
        return t.numpy() if self._numpy else t

    def _read(self, name):
        lo, hi, _, dtype, shape = self._entries[name]
        raw = np.empty(hi - lo, np.uint8)
        self._f.seek(self._start + lo)
        if self._f.readinto(memoryview(raw)) != hi - lo:
            raise SafetensorError(f"truncated data for {name!r}")
        return _tensor(raw, dtype, shape, self._device)


def load_file(filename, device="cpu"):
    """A dict of the file's tensors (each its own array), on ``device``."""
    with safe_open(filename, device=device) as f:
        _warn_bf16(f._entries.values())
        return {name: f._read(name) for name in f.keys()}


def load(data):
    """A dict of tensors from safetensors bytes."""
    data = bytes(data)
    start, entries, _ = _parse_header(data[:8], lambda n: data[8:8 + n], len(data))
    _warn_bf16(entries)
    return {name: _tensor(np.frombuffer(bytearray(data[start + lo:start + hi]), np.uint8), dtype,
                          shape, B.CPU)
            for lo, hi, name, dtype, shape in entries}


# ---------------------------------------------------------------------------
# models (tied weights are saved once)


def _covers_storage(t):
    a = t._data
    root = _root_array(a)
    return a.flags.c_contiguous and _ptr(a) == _ptr(root) and a.nbytes == root.nbytes


def _duplicate_names(state_dict, preferred_names=()):
    """``{kept name: [names to drop]}`` for tensors that share memory; the
    kept one covers its whole storage (a preferred name if possible)."""
    out = {}
    for group in _shared_groups(state_dict):
        complete = sorted(n for n in group if _covers_storage(state_dict[n]))
        if not complete:
            raise RuntimeError(
                f"Error while trying to find names to remove to save state dict, but found no "
                f"suitable name to keep for saving amongst: {group}. None is covering the entire "
                "storage. Refusing to save/load the model since you could be storing much more "
                "memory than needed.")
        preferred = [n for n in complete if n in preferred_names]
        keep = (preferred or complete)[0]
        out[keep] = sorted(n for n in group if n != keep)
    return out


def save_model(model, filename, metadata=None, force_contiguous=True):
    """Save ``model.state_dict()``; tensors tied to another are stored once
    and recorded in the metadata as ``{dropped name: kept name}``."""
    state_dict = dict(model.state_dict())
    for kept, dropped in _duplicate_names(state_dict).items():
        for name in dropped:
            metadata = {} if metadata is None else metadata
            metadata.setdefault(name, kept)
            del state_dict[name]
    if force_contiguous:
        state_dict = {k: v.contiguous() for k, v in state_dict.items()}
    save_file(state_dict, filename, metadata=metadata)


def load_model(model, filename, strict=True, device="cpu"):
    """Load a ``save_model`` file into ``model``; returns ``(missing,
    unexpected)`` key lists, raising on either when ``strict``."""
    state_dict = load_file(filename, device=device)
    tied = _duplicate_names(model.state_dict(), preferred_names=set(state_dict))
    result = model.load_state_dict(state_dict, strict=False)
    missing, unexpected = set(result.missing_keys), list(result.unexpected_keys)
    for dropped in tied.values():
        for name in dropped:
            if name in missing:
                missing.discard(name)
            else:
                unexpected.append(name)
    missing = sorted(missing)
    if strict and (missing or unexpected):
        msgs = []
        if unexpected:
            msgs.append("Unexpected key(s) in state_dict: "
                        + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if missing:
            msgs.append("Missing key(s) in state_dict: "
                        + ", ".join(f'"{k}"' for k in missing) + ".")
        raise RuntimeError(f"Error(s) in loading state_dict for {type(model).__name__}:\n\t"
                           + "\n\t".join(msgs))
    return missing, unexpected
