"""Views (which share storage with their base, as in torch), reshapes,
joins and splits, flips and rolls."""
import builtins
import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _wrap, _wrap_dim, Size
from ..autograd.graph import Node
from .common import arr, attach, shape_arg, sum_to, xp_of, _gs, check_same_device, result_dtype


def make_view(base, a, node_cls=None, **attrs):
    """A tensor over array ``a``, a view of ``base``'s array: it shares the
    root tensor's version counter so in-place changes are seen by both."""
    r = _wrap(a)
    root = base._base if base._base is not None else base
    vc = root._vc
    if vc is None:
        vc = root._vc = [0]
    r._vc = vc
    r._base = root
    if node_cls is not None and _gs[0] and base._rg:
        n = node_cls((base,))
        for k, v in attrs.items():
            setattr(n, k, v)
        attach(r, n)
    return r


def _record(r, node_cls, inputs, **attrs):
    if _gs[0] and any(t._rg for t in inputs):
        n = node_cls(inputs)
        for k, v in attrs.items():
            setattr(n, k, v)
        attach(r, n)
    return r


def infer_size(shape, numel):
    if -1 not in shape:
        n = 1
        for s in shape:
            n *= s
        if n == numel and min(shape, default=0) >= 0:
            return shape
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


class ViewBackward0(Node):
    def backward(self, g):
        return g.reshape(self.shape),


class UnsafeViewBackward0(ViewBackward0):
    pass


def view(input, *shape):
    if len(shape) == 1 and isinstance(shape[0], B.dtype):
        return _wrap(input._data.view(shape[0].np))
    shape = infer_size(shape_arg(shape), input._data.size)
    d = input._data
    try:
        a = d.reshape(shape, copy=False) if type(d) is np.ndarray else _cupy_view(d, shape)
    except (ValueError, AttributeError):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None
    return make_view(input, a, ViewBackward0, shape=d.shape)


def _cupy_view(d, shape):
    a = d.view()
    a.shape = shape
    return a


def view_as(input, other):
    return view(input, other._data.shape)


def reshape(input, *shape):
    shape = infer_size(shape_arg(shape), input._data.size)
    d = input._data
    if d.shape == shape:
        return make_view(input, d.view(), ViewBackward0, shape=d.shape)
    try:
        a = d.reshape(shape, copy=False) if type(d) is np.ndarray else _cupy_view(d, shape)
    except (ValueError, AttributeError):
        r = _wrap(d.reshape(shape))
        return _record(r, UnsafeViewBackward0, (input,), shape=d.shape)
    return make_view(input, a, ViewBackward0, shape=d.shape)


def reshape_as(input, other):
    return reshape(input, other._data.shape)


def flatten(input, start_dim=0, end_dim=-1):
    d = input._data
    if d.ndim == 0:
        return reshape(input, (1,))
    s = _wrap_dim(start_dim, d.ndim)
    e = _wrap_dim(end_dim, d.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for x in d.shape[s:e + 1]:
        n *= x
    return reshape(input, d.shape[:s] + (n,) + d.shape[e + 1:])


def unflatten(input, dim, sizes):
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    sizes = infer_size(tuple(sizes), d.shape[dim]) if -1 in tuple(sizes) else tuple(sizes)
    if int(np.prod(sizes)) != d.shape[dim]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size "
                           f"of dim {dim} ({d.shape[dim]}) in the input tensor")
    return view(input, d.shape[:dim] + tuple(sizes) + d.shape[dim + 1:]) if d.flags.c_contiguous \
        else reshape(input, d.shape[:dim] + tuple(sizes) + d.shape[dim + 1:])


class SqueezeBackward0(Node):
    def backward(self, g):
        return g.reshape(self.shape),


SqueezeBackward1 = type("SqueezeBackward1", (SqueezeBackward0,), {})


def squeeze(input, dim=None):
    d = input._data
    if dim is None:
        a = d.reshape(tuple(s for s in d.shape if s != 1))
        return make_view(input, a, SqueezeBackward0, shape=d.shape)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(_wrap_dim(x, d.ndim) for x in dims) if d.ndim else ()
    keep = tuple(s for i, s in enumerate(d.shape) if not (i in dims and s == 1))
    return make_view(input, d.reshape(keep), SqueezeBackward1, shape=d.shape)


class UnsqueezeBackward0(Node):
    def backward(self, g):
        return g.squeeze(self.dim),


def unsqueeze(input, dim):
    d = input._data
    dim = _wrap_dim(dim, d.ndim + 1)
    return make_view(input, d.reshape(d.shape[:dim] + (1,) + d.shape[dim:]),
                     UnsqueezeBackward0, dim=dim)


class PermuteBackward0(Node):
    def backward(self, g):
        return g.permute(tuple(np.argsort(self.dims))),


def permute(input, *dims):
    if len(dims) == 1 and not isinstance(dims[0], int):
        dims = tuple(dims[0])
    d = input._data
    if len(dims) != d.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not "
                           f"match the length of the desired ordering of dimensions i.e. input.dim() "
                           f"= {d.ndim} is not equal to len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(x, d.ndim) for x in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return make_view(input, d.transpose(dims), PermuteBackward0, dims=dims)


class TransposeBackward0(Node):
    def backward(self, g):
        return g.transpose(self.d0, self.d1),


def transpose(input, dim0, dim1):
    d = input._data
    n = d.ndim
    if n == 0:
        return make_view(input, d.view(), TransposeBackward0, d0=0, d1=0)
    d0, d1 = _wrap_dim(dim0, n), _wrap_dim(dim1, n)
    return make_view(input, d.swapaxes(d0, d1), TransposeBackward0, d0=d0, d1=d1)


swapaxes = swapdims = transpose


class TBackward0(Node):
    def backward(self, g):
        return g.t(),


def t(input):
    d = input._data
    if d.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {d.ndim}D")
    return make_view(input, d.T, TBackward0)


def T(input):
    d = input._data
    return make_view(input, d.transpose(tuple(range(d.ndim))[::-1]), PermuteBackward0,
                     dims=tuple(range(d.ndim))[::-1])


def mT(input):
    if input._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {input._data.ndim}-D tensor.")
    return transpose(input, -2, -1)


def movedim(input, source, destination):
    d = input._data
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    src = [_wrap_dim(s, d.ndim) for s in src]
    dst = [_wrap_dim(s, d.ndim) for s in dst]
    order = [i for i in range(d.ndim) if i not in src]
    for dd, s in sorted(zip(dst, src)):
        order.insert(dd, s)
    return permute(input, tuple(order))


moveaxis = movedim


class ExpandBackward0(Node):
    def backward(self, g):
        return sum_to(g, self.shape),


def expand(input, *sizes):
    sizes = shape_arg(sizes)
    d = input._data
    if len(sizes) < d.ndim:
        raise RuntimeError(f"expand(torch.{input.dtype.name.capitalize()}Tensor{{{list(d.shape)}}}, "
                           f"size={list(sizes)}): the number of sizes provided ({len(sizes)}) must "
                           f"be greater or equal to the number of dimensions in the tensor ({d.ndim})")
    lead = len(sizes) - d.ndim
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   "leading, non-existing dimension")
            target.append(s)
        else:
            cur = d.shape[i - lead]
            if s == -1:
                s = cur
            elif cur != 1 and s != cur:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                                   f"size ({cur}) at non-singleton dimension {i}.  Target sizes: "
                                   f"{list(sizes)}.  Tensor sizes: {list(d.shape)}")
            target.append(s)
    xp = xp_of(input)
    return make_view(input, xp.broadcast_to(d, tuple(target)), ExpandBackward0, shape=d.shape)


def expand_as(input, other):
    return expand(input, other._data.shape)


def broadcast_to(input, shape):
    return expand(input, shape)


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    shape = np.broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    return Size(np.broadcast_shapes(*shapes))


class SliceBackward0(Node):
    def backward(self, g):
        from .creation import zeros
        z = zeros(self.shape, dtype=g.dtype, device=g.device)
        return z.slice_scatter(g, self.dim, self.start, self.start + self.length),


def narrow(input, dim, start, length):
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    if isinstance(start, Tensor):
        start = int(start)
    size = d.shape[dim]
    if start < 0:
        start += size
    if not (0 <= start <= size) or length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    idx = (slice(None),) * dim + (slice(start, start + length),)
    return make_view(input, d[idx], SliceBackward0, shape=d.shape, dim=dim, start=start,
                     length=length)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with ``src`` written into a slice along ``dim``."""
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    idx = (slice(None),) * dim + (slice(start, end, step),)
    r = input.clone()
    r[idx] = src
    return r


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``src`` written at ``index`` along ``dim``."""
    idx = (slice(None),) * _wrap_dim(dim, input._data.ndim) + (index,)
    r = input.clone()
    r[idx] = src
    return r


class CloneBackward0(Node):
    def backward(self, g):
        return g,


def clone(input, *, memory_format=None):
    r = _wrap(input._data.copy())
    return _record(r, CloneBackward0, (input,))


def contiguous(input, memory_format=None):
    if input._data.flags.c_contiguous:
        return input
    r = _wrap(xp_of(input).ascontiguousarray(input._data))
    return _record(r, CloneBackward0, (input,))


class RepeatBackward0(Node):
    def backward(self, g):
        shape = self.shape
        reps = self.reps
        lead = len(reps) - len(shape)
        # fold each repeated axis into (rep, size) and sum over rep
        split = []
        full = (1,) * lead + tuple(shape)
        for r, s in zip(reps, full):
            split += [r, s]
        gg = g.reshape(split).sum(tuple(range(0, 2 * len(reps), 2)))
        return gg.reshape(shape),


def repeat(input, *sizes):
    reps = shape_arg(sizes)
    d = input._data
    if len(reps) < d.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    r = _wrap(xp_of(input).tile(d, reps))
    return _record(r, RepeatBackward0, (input,), shape=d.shape, reps=reps)


def tile(input, *dims):
    dims = tuple(shape_arg(dims))
    d = input._data
    if len(dims) < d.ndim:
        dims = (1,) * (d.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    from .indexing import index_select
    if repeats is None:  # repeat_interleave(counts): indices
        c = input._data
        return _wrap(xp_of(input).repeat(xp_of(input).arange(c.shape[0]), c))
    if dim is None:
        input = input.reshape(-1)
        dim = 0
    dim = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[dim]
    xp = xp_of(input)
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    idx = xp.repeat(xp.arange(n), reps)
    return index_select(input, dim, _wrap(idx.astype(np.int64)))


def resize_(input, *sizes):
    """Reshape in place (the seeds' ``images.resize_(n, 1, 784)``); storage
    grows with zeros or is truncated like torch's."""
    shape = shape_arg(sizes)
    n = int(np.prod(shape))
    d = input._data
    if n == d.size:
        input._data = d.reshape(shape)
    else:
        flat = xp_of(input).zeros(n, dtype=d.dtype)
        m = min(n, d.size)
        flat[:m] = d.reshape(-1)[:m]
        input._data = flat.reshape(shape)
    input._bump_version()
    return input


def resize(input, *sizes):
    """The deprecated out-of-place resize: a reshape keeping the element count."""
    warnings.warn("non-inplace resize is deprecated", stacklevel=2)
    shape = shape_arg(sizes)
    n, m = int(np.prod(shape)), input._data.size
    if n != m:
        raise RuntimeError(f"requested resize to {'x'.join(map(str, shape))} ({n} elements in "
                           f"total), but the given tensor has a size of "
                           f"{'x'.join(map(str, input._data.shape))} ({m} elements). autograd's "
                           "resize can only change the shape of a given tensor, while preserving "
                           "the number of elements. ")
    return input.reshape(shape)


def resize_as_(input, other):
    return resize_(input, other._data.shape)


# ---------------------------------------------------------------- joins
class CatBackward0(Node):
    def backward(self, g):
        out, pos = [], 0
        for s in self.sizes:
            out.append(narrow(g, self.dim, pos, s) if s else None)
            pos += s
        return tuple(out)


def _tensors_arg(tensors, name):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    return tensors


def cat(tensors, dim=0, *, out=None):
    tensors = _tensors_arg(tensors, "cat")
    # legacy: 1-D empty tensors are skipped
    parts = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or tensors[:1]
    ref = parts[0]._data
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    dim = _wrap_dim(dim, ref.ndim)
    for i, t in enumerate(parts):
        check_same_device(ref, t._data)
        s = t._data.shape
        if len(s) != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {len(s)}")
        for k in range(ref.ndim):
            if k != dim and s[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. Expected "
                                   f"size {ref.shape[k]} but got size {s[k]} for tensor number {i} in "
                                   "the list.")
    dt = result_dtype(*parts)
    xp = xp_of(parts[0])
    r = _wrap(xp.concatenate([t._data for t in parts], axis=dim, dtype=dt.np))
    if _gs[0] and any(t._rg for t in parts):
        n = CatBackward0(parts)
        n.dim, n.sizes = dim, [t._data.shape[dim] for t in parts]
        attach(r, n)
    return r


concat = concatenate = cat


class StackBackward0(Node):
    def backward(self, g):
        return tuple(g.select(self.dim, i) for i in range(self.n))


def stack(tensors, dim=0, *, out=None):
    tensors = _tensors_arg(tensors, "stack")
    ref = tensors[0]._data
    for i, t in enumerate(tensors):
        if t._data.shape != ref.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(ref.shape)} at entry 0 and {list(t._data.shape)} at entry {i}")
        check_same_device(ref, t._data)
    dim = _wrap_dim(dim, ref.ndim + 1)
    dt = result_dtype(*tensors)
    xp = xp_of(tensors[0])
    r = _wrap(xp.stack([t._data if t._data.dtype == dt.np else t._data.astype(dt.np)
                        for t in tensors], axis=dim))
    if _gs[0] and any(t._rg for t in tensors):
        n = StackBackward0(tensors)
        n.dim, n.n = dim, len(tensors)
        attach(r, n)
    return r


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


row_stack = vstack


def dstack(tensors):
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    return hstack([t.reshape(-1, 1) if t._data.ndim <= 1 else t for t in tensors])


def _each(fn, tensors):
    """``fn`` of one tensor, or a tuple of ``fn`` of several (given loose or as a list)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(fn(t) for t in tensors[0])
    return fn(tensors[0]) if len(tensors) == 1 else tuple(fn(t) for t in tensors)


def _at_least_1d(t):
    return t.reshape(1) if t._data.ndim == 0 else t


def _at_least_2d(t):
    return t.reshape(1, -1) if t._data.ndim < 2 else t


def _at_least_3d(t):
    n = t._data.ndim
    if n == 0:
        return t.reshape(1, 1, 1)
    if n == 1:
        return t.reshape(1, -1, 1)
    if n == 2:
        return t.unsqueeze(-1)
    return t


def atleast_1d(*tensors):
    return _each(_at_least_1d, tensors)


def atleast_2d(*tensors):
    return _each(_at_least_2d, tensors)


def atleast_3d(*tensors):
    return _each(_at_least_3d, tensors)


class SplitBackward0(Node):
    def backward(self, *grads):
        from .creation import zeros
        parts = []
        for g, s in zip(grads, self.sizes):
            if g is None:
                shp = list(self.shape)
                shp[self.dim] = s
                g = zeros(shp, dtype=self.dtype, device=self.device)
            parts.append(g)
        return cat(parts, self.dim),


UnbindBackward0 = type("UnbindBackward0", (SplitBackward0,), {})
SplitWithSizesBackward0 = type("SplitWithSizesBackward0", (SplitBackward0,), {})


def _split_views(input, dim, sizes, node_cls):
    d = input._data
    outs, pos = [], 0
    node = None
    if _gs[0] and input._rg:
        node = node_cls((input,))
        node.num_outputs = len(sizes)
        node.sizes, node.dim, node.shape = sizes, dim, d.shape
        node.dtype, node.device = input.dtype, input.device
    for i, s in enumerate(sizes):
        idx = (slice(None),) * dim + (slice(pos, pos + s),)
        v = make_view(input, d[idx])
        if node is not None:
            attach(v, node, i)
        outs.append(v)
        pos += s
    return tuple(outs)


def split(tensor, split_size_or_sections, dim=0):
    d = tensor._data
    dim = _wrap_dim(dim, d.ndim)
    n = d.shape[dim]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                               f"size of {n}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s else [0]
        return _split_views(tensor, dim, sizes or [0], SplitBackward0)
    sizes = list(split_size_or_sections)
    if sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                           f"tensor's size at dimension {dim}), but got split_sizes={sizes}")
    return _split_views(tensor, dim, sizes, SplitWithSizesBackward0)


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    n = d.shape[dim]
    s = -(-n // chunks) if n else 0
    return split(input, s if s else 1, dim) if n else (input,)


def tensor_split(input, indices_or_sections, dim=0):
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    n = d.shape[dim]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
    else:
        idx = [0] + [min(max(int(i), 0), n) for i in indices_or_sections] + [n]
        sizes = [max(b - a, 0) for a, b in zip(idx[:-1], idx[1:])]
    return _split_views(input, dim, sizes, SplitWithSizesBackward0)


def unbind(input, dim=0):
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    parts = _split_views(input, dim, [1] * d.shape[dim], UnbindBackward0)
    sq = []
    for p in parts:
        v = make_view(p, p._data.squeeze(dim))
        v._grad_fn, v._rg, v._output_nr = p._grad_fn, p._rg, p._output_nr
        sq.append(v)
    if sq and sq[0]._grad_fn is not None:
        sq[0]._grad_fn.unbind_dim = dim
    return tuple(sq)


def _unbind_backward(self, *grads):
    grads = tuple(g.unsqueeze(self.dim) if g is not None else None for g in grads)
    return SplitBackward0.backward(self, *grads)


UnbindBackward0.backward = _unbind_backward


class SelectBackward0(Node):
    def backward(self, g):
        from .creation import zeros
        z = zeros(self.shape, dtype=g.dtype, device=g.device)
        idx = (slice(None),) * self.dim + (self.index,)
        z[idx] = g
        return z,


def select(input, dim, index):
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    n = d.shape[dim]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(d.shape)} "
                         f"at dimension {dim}")
    index = index % n
    idx = (slice(None),) * dim + (index, Ellipsis)
    return make_view(input, d[idx], SelectBackward0, shape=d.shape, dim=dim, index=index)


# ---------------------------------------------------------------- flips, rolls, triangles
class FlipBackward0(Node):
    def backward(self, g):
        return g.flip(self.dims),


def flip(input, *dims):
    if len(dims) == 1 and not isinstance(dims[0], int):
        dims = tuple(dims[0])
    d = input._data
    dims = tuple(_wrap_dim(x, d.ndim) for x in dims)
    r = _wrap(xp_of(input).flip(d, dims).copy() if dims else d.copy())
    return _record(r, FlipBackward0, (input,), dims=dims)


def fliplr(input):
    return flip(input, (1,))


def flipud(input):
    return flip(input, (0,))


class RollBackward0(Node):
    def backward(self, g):
        shifts = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) else -self.shifts
        return g.roll(shifts, self.dims),


def roll(input, shifts, dims=None):
    d = input._data
    r = _wrap(xp_of(input).roll(d, shifts, axis=dims))
    return _record(r, RollBackward0, (input,), shifts=shifts if isinstance(shifts, int) else tuple(shifts),
                   dims=dims if dims is None or isinstance(dims, int) else tuple(dims))


class TrilBackward0(Node):
    def backward(self, g):
        return g.tril(self.k),


class TriuBackward0(Node):
    def backward(self, g):
        return g.triu(self.k),


def tril(input, diagonal=0):
    d = input._data
    if d.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    r = _wrap(xp_of(input).tril(d, diagonal))
    return _record(r, TrilBackward0, (input,), k=diagonal)


def triu(input, diagonal=0):
    d = input._data
    if d.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    r = _wrap(xp_of(input).triu(d, diagonal))
    return _record(r, TriuBackward0, (input,), k=diagonal)


class DiagonalBackward0(Node):
    def backward(self, g):
        from .creation import zeros
        z = zeros(self.shape, dtype=g.dtype, device=g.device)
        # NumPy puts the indexed diagonal in place of d1/d2 when adjacent, else first
        at = min(self.d1, self.d2) if abs(self.d1 - self.d2) == 1 else 0
        z[_diag_index(self.shape, self.offset, self.d1, self.d2)] = g.movedim(-1, at)
        return z,


def _diag_index(shape, offset, d1, d2):
    n = min(shape[d1] - max(-offset, 0), shape[d2] - max(offset, 0))
    i = np.arange(max(n, 0))
    idx = [slice(None)] * len(shape)
    idx[d1] = i + max(-offset, 0)
    idx[d2] = i + max(offset, 0)
    return tuple(idx)


def diagonal(input, offset=0, dim1=0, dim2=1):
    d = input._data
    d1, d2 = _wrap_dim(dim1, d.ndim), _wrap_dim(dim2, d.ndim)
    a = xp_of(input).diagonal(d, offset, d1, d2)
    if type(d) is np.ndarray:  # NumPy's diagonal is read-only; torch's is a writable view
        start = [slice(None)] * d.ndim
        start[d1], start[d2] = slice(max(-offset, 0), None), slice(max(offset, 0), None)
        a = np.lib.stride_tricks.as_strided(d[tuple(start)], a.shape, a.strides)
    return make_view(input, a, DiagonalBackward0, shape=d.shape, offset=offset, d1=d1, d2=d2)


def diag(input, diagonal=0):
    d = input._data
    if d.ndim == 1:
        from .creation import zeros
        n = d.shape[0] + abs(diagonal)
        z = zeros((n, n), dtype=input.dtype, device=input.device)
        idx = _diag_index((n, n), diagonal, 0, 1)
        z[idx] = input
        return z
    if d.ndim == 2:
        return diagonal_copy(input, diagonal)
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + str(d.ndim) + "D")


def diagonal_copy(input, offset=0):
    return clone(diagonal(input, offset))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    from .creation import zeros
    d = input._data
    n = d.shape[-1] + abs(offset)
    shape = d.shape[:-1] + (n, n)
    z = zeros(shape, dtype=input.dtype, device=input.device)
    z[_diag_index(shape, offset, len(shape) - 2, len(shape) - 1)] = input
    d1, d2 = _wrap_dim(dim1, len(shape)), _wrap_dim(dim2, len(shape))
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return z if (d1, d2) == (len(shape) - 2, len(shape) - 1) else \
        z.movedim((-2, -1), (d1, d2)).contiguous()


def trace(input):
    return diagonal(input).sum()


# ---------------------------------------------------------------- in-place writes through views
def _geometry(view, root):
    """Where a view's elements sit inside its (C-contiguous) root, in elements."""
    if not root.flags.c_contiguous:
        raise RuntimeError("in-place operation with autograd on a view of a non-contiguous tensor "
                           "is not supported; call .contiguous() on the base first")
    from .._tensor import _ptr
    isz = view.itemsize
    return ((_ptr(view) - _ptr(root)) // isz, view.shape, tuple(st // isz for st in view.strides))


def _strided(a, geom):
    """The region ``geom`` of array ``a`` (which has the root's shape) as a view."""
    off, shape, strides = geom
    flat = a.reshape(-1)
    isz = a.itemsize
    xp = np if type(a) is np.ndarray else B.array_module(a)
    return xp.lib.stride_tricks.as_strided(flat[off:], shape, tuple(st * isz for st in strides))


class AsStridedBackward0(Node):
    def backward(self, g):
        from .creation import zeros
        return strided_scatter(zeros(self.shape, dtype=g.dtype, device=g.device), g, self.geom),


def as_strided_copy(input, geom):
    r = _wrap(_strided(input._data, geom).copy())
    return _record(r, AsStridedBackward0, (input,), shape=input._data.shape, geom=geom)


class CopySlices(Node):
    """The base's history after an in-place write through one of its views."""

    def backward(self, g):
        from .creation import zeros
        gb = strided_scatter(g, zeros(self.geom[1], dtype=g.dtype, device=g.device), self.geom) \
            if self.mb else None
        gs = as_strided_copy(g, self.geom) if self.ms is not None else None
        if gs is not None and gs._data.dtype != self.ms:
            gs = gs.to(B._BY_NP[self.ms])
        return gb, gs


def strided_scatter(base, src, geom):
    """A copy of ``base`` with region ``geom`` replaced by ``src``."""
    d = base._data.copy()
    _strided(d, geom)[...] = src._data
    r = _wrap(d)
    return _record(r, CopySlices, (base, src), geom=geom, mb=base._rg,
                   ms=src._data.dtype if src._rg else None)


def rebase_view_history(view, result):
    """``view`` (of a root that requires grad, or getting a value that does)
    receives ``result`` in place: the root's history becomes a CopySlices
    over its old history, and the view becomes a strided view of the new root."""
    root = view._base
    if root._rg and root._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    geom = _geometry(view._data, root._data)
    node = CopySlices((root, result))
    node.geom, node.mb = geom, root._rg
    node.ms = result._data.dtype if result._rg else None
    try:
        view._data[...] = result._data
    except ValueError as e:
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor "
                           "refers to a single memory location. Please clone() the tensor before "
                           "performing the operation.") from e
    view._bump_version()
    root._grad_fn, root._output_nr, root._rg = node, 0, True
    vn = AsStridedBackward0((root,))
    vn.shape, vn.geom = root._data.shape, geom
    view._grad_fn, view._output_nr, view._rg = vn, 0, True


def as_strided(input, size, stride, storage_offset=None):
    d = input._data
    base = d
    while base.base is not None and hasattr(base.base, "dtype"):
        base = base.base
    off = storage_offset if storage_offset is not None else input.storage_offset()
    flat = base.reshape(-1)
    xp = xp_of(input)
    a = xp.lib.stride_tricks.as_strided(flat[off:], shape=tuple(size),
                                        strides=tuple(s * d.itemsize for s in stride))
    return make_view(input, a)


def unfold(input, dimension, size, step):
    """``Tensor.unfold``: sliding windows of ``size`` along ``dimension``."""
    d = input._data
    dim = _wrap_dim(dimension, d.ndim)
    n = (d.shape[dim] - size) // step + 1
    idx = np.arange(n)[:, None] * step + np.arange(size)[None, :]
    from .indexing import index_select
    flat = index_select(input, dim, _wrap(xp_of(input).asarray(idx.reshape(-1), dtype=np.int64)))
    shp = d.shape[:dim] + (n, size) + d.shape[dim + 1:]
    return flat.reshape(shp).movedim(dim + 1, -1)


def meshgrid(*tensors, indexing="ij"):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    n = len(tensors)
    shape = [t._data.shape[0] if t._data.ndim else 1 for t in tensors]
    outs = []
    for i, t in enumerate(tensors):
        s = [1] * n
        s[i] = shape[i]
        outs.append(t.reshape(s).expand(shape))
    if indexing == "xy" and n >= 2:
        outs = [o.transpose(0, 1) for o in outs]
    return tuple(outs)


# ---------------------------------------------------------------- compositions
def ravel(input):
    return reshape(input.contiguous(), (-1,))


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times from ``dims[0]`` towards ``dims[1]``."""
    d0, d1 = (_wrap_dim(d, input._data.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k %= 4
    if k == 1:
        return flip(input, (d1,)).transpose(d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(input, (d0,)).transpose(d0, d1)
    return input.clone()


def _split_along(input, sections, dim, name, min_dims):
    if input._data.ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, "
                           f"but got a tensor with {input._data.ndim} dimensions!")
    return tensor_split(input, sections, dim)


def hsplit(input, sections):
    return _split_along(input, sections, 1 if input._data.ndim > 1 else 0, "hsplit", 1)


def vsplit(input, sections):
    return _split_along(input, sections, 0, "vsplit", 2)


def dsplit(input, sections):
    return _split_along(input, sections, 2, "dsplit", 3)


def diagflat(input, offset=0):
    return diag(input.reshape(-1), offset)


def block_diag(*tensors):
    """The tensors (0-, 1- or 2-d) on the diagonal of a zero matrix, by padding and cat."""
    from .creation import zeros
    ms = [t.reshape(1, -1) if t.dim() < 2 else t for t in tensors]
    cols = builtins.sum(m.shape[1] for m in ms)
    rows, left = [], 0
    for m in ms:
        h, w = m.shape
        pad = [zeros(h, n, dtype=m.dtype, device=m.device) for n in (left, cols - left - w)]
        rows.append(cat([pad[0], m, pad[1]], 1))
        left += w
    return cat(rows, 0) if rows else zeros(0, 0)


def cartesian_prod(*tensors):
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    import itertools
    from .indexing import index_select
    make = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(make(range(input._data.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    if not idx.size:
        return input.new_zeros((0,) if r else (0, r))
    picked = index_select(input, 0, _wrap(B.move_array(idx.reshape(-1), input.device)))
    return picked.reshape(-1, r)


def vander(x, N=None, increasing=False):
    n = x._data.shape[0] if N is None else N
    if not n:
        return x.new_zeros((x.shape[0], 0))
    powers = [x ** i for i in range(n)]
    return stack(powers if increasing else powers[::-1], 1)

