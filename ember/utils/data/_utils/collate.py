"""``default_collate`` / ``default_convert``: turn a list of samples into a
batch (torch's rules, dispatching on the type of the first sample)."""
import collections
import copy
import re

import numpy as np

import ember

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, "
    "dicts or lists; found {}"
)


def _rebuild(data, items, fn):
    """``data`` (a Mapping or Sequence) with its elements replaced by
    ``fn(item)`` for ``items`` (key -> item, or position -> item); the same
    type where it can be rebuilt, else a plain dict/list."""
    try:
        if isinstance(data, (collections.abc.MutableMapping, collections.abc.MutableSequence)):
            # Mutable containers may carry extra state: clone and update in place.
            clone = copy.copy(data)
            for k, v in items:
                clone[k] = fn(v)
            return clone
        if isinstance(data, collections.abc.Mapping):
            return type(data)({k: fn(v) for k, v in items})
        return type(data)([fn(v) for _, v in items])
    except TypeError:
        # No copy/update/__setitem__, or a constructor that takes no iterable (range).
        if isinstance(data, collections.abc.Mapping):
            return {k: fn(v) for k, v in items}
        return [fn(v) for _, v in items]


def default_convert(data):
    """Convert NumPy arrays (and NumPy scalars) inside ``data`` to tensors,
    keeping every container type; everything else is left as it is. The
    collate function of a DataLoader with ``batch_size=None``."""
    elem_type = type(data)
    if isinstance(data, ember.Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str):
            return data  # arrays of strings or objects stay arrays
        return ember.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, [(k, data[k]) for k in data], default_convert)
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # tuples become lists, as in torch
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild(data, list(enumerate(data)), default_convert)
    return data


def collate(batch, *, collate_fn_map=None):
    """Collate ``batch`` (a list of samples) recursively. ``collate_fn_map``
    maps a type (or tuple of types) to ``fn(batch, *, collate_fn_map)``; it is
    looked up by the exact type of the first sample, then by isinstance in
    insertion order. Mappings, namedtuples and sequences are collated field
    by field."""
    elem = batch[0]
    elem_type = type(elem)

    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)

    def sub(samples):
        return collate(samples, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        return _rebuild(elem, [(key, [d[key] for d in batch]) for key in elem], sub)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(sub(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        elem_size = len(elem)
        if not all(len(e) == elem_size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))  # tuples of samples, as in torch
        if isinstance(elem, tuple):
            return [sub(samples) for samples in transposed]  # tuples become lists, as in torch
        return _rebuild(elem, list(enumerate(transposed)), sub)

    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    return ember.stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([ember.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return ember.as_tensor(batch)


def collate_float_fn(batch, *, collate_fn_map=None):
    return ember.tensor(batch, dtype=ember.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return ember.tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    ember.Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,  # ndarray and its subclasses (memmap)
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,  # string scalars excluded
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Put a list of samples into a batch with a new leading dimension:

    * Tensor -> stacked Tensor; NumPy array -> Tensor, stacked; NumPy scalar -> Tensor
    * float -> float64 Tensor; int -> int64 Tensor; bool -> bool Tensor
    * str, bytes -> the list unchanged
    * Mapping -> same type, collated key by key; namedtuple -> same type, field by field
    * other Sequence -> collated position by position (tuples give lists)

    Extend it by adding to ``default_collate_fn_map`` or by calling
    ``collate(batch, collate_fn_map=...)`` with a map of your own."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
