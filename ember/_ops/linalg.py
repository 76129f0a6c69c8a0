"""Matrix products: matmul (batched, broadcasting), mm, bmm, mv, dot, outer,
addmm (the fused linear), baddbmm, einsum, tensordot, and a few
decompositions used by init and users."""
import math

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _wrap
from ..autograd.graph import Node
from .common import arr, attach, sum_to, xp_of, _gs, check_same_device, result_dtype


def _dtype_check(a, b, name):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{a.dtype.name.replace('float32', 'float').replace('float64', 'double')} "
                           f"!= {b.dtype.name.replace('float32', 'float').replace('float64', 'double')}")
    check_same_device(a._data, b._data)


def _transposed(a):
    """A matrix laid out as the transpose of a C-contiguous one (``w.t()``):
    its gradient is computed in that layout too (as torch does), so that the
    transpose's backward hands on a C-contiguous gradient."""
    f = a.flags
    return a.ndim == 2 and f.f_contiguous and not f.c_contiguous


class MmBackward0(Node):
    def backward(self, g):
        a, b = self.saved
        ga = gb = None
        if self.ma:
            ga = sum_to((b @ g.mT).mT if self.ta else g @ b.mT, self.shape_a)
        if self.mb:
            gb = sum_to((g.mT @ a).mT if self.tb else a.mT @ g, self.shape_b)
        return ga, gb


BmmBackward0 = type("BmmBackward0", (MmBackward0,), {})


def _mm_record(r, cls, a, b):
    if _gs[0] and (a._rg or b._rg):
        n = cls((a, b))
        n.save(a if b._rg else None, b if a._rg else None)
        n.ma, n.mb = a._rg, b._rg
        n.ta, n.tb = _transposed(a._data), _transposed(b._data)
        n.shape_a, n.shape_b = a._data.shape, b._data.shape
        attach(r, n)
    return r


def matmul(input, other, *, out=None):
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError("matmul(): argument 'input' and 'other' must be Tensor")
    a, b = input._data, other._data
    if a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0] and a.dtype == b.dtype \
            and type(a) is type(b) and out is None:  # the hot path: a plain matrix product
        r = _wrap(a @ b)
        if _gs[0] and (input._rg or other._rg):
            _mm_record(r, MmBackward0, input, other)
        return r
    check_same_device(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    if a.dtype != b.dtype:
        _dtype_check(input, other, "matmul")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                               f"[{b.shape[0]}] to have the same number of elements, but got "
                               f"{a.shape[0]} and {b.shape[0]} elements respectively")
        if a.ndim <= 2 and b.ndim <= 2:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                               f"({'x'.join(map(str, a.shape if a.ndim == 2 else (1,) + a.shape))} and "
                               f"{'x'.join(map(str, b.shape))})")
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"{list(b.shape[:-2]) + [a.shape[-1]]} but got: {list(b.shape[:-1])}.")
    if a.ndim == 1 or b.ndim == 1:
        return _matmul_vec(input, other)
    if a.shape[:-2] != b.shape[:-2]:
        from .common import check_broadcast
        check_broadcast(a.shape[:-2], b.shape[:-2])
    r = _wrap(arr(a @ b))
    if out is not None:
        out._data[...] = r._data
        return out
    return _mm_record(r, MmBackward0 if a.ndim == 2 and b.ndim == 2 else BmmBackward0, input, other)


def _matmul_vec(input, other):
    """1-D operands: promote to matrices, multiply, squeeze (autograd
    follows through the view ops)."""
    a2 = input.unsqueeze(0) if input._data.ndim == 1 else input
    b2 = other.unsqueeze(-1) if other._data.ndim == 1 else other
    r = matmul(a2, b2)
    if other._data.ndim == 1:
        r = r.squeeze(-1)
    if input._data.ndim == 1:
        r = r.squeeze(-2 if other._data.ndim > 1 else -1)
    return r


def mm(input, mat2, *, out=None):
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(f"{'self' if input._data.ndim != 2 else 'mat2'} must be a matrix")
    return matmul(input, mat2, out=out)


def bmm(input, mat2, *, out=None):
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{input._data.shape[0]} and {mat2._data.shape[0]}")
    return matmul(input, mat2, out=out)


def mv(input, vec):
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError("vector + matrix @ vector expected, got "
                           f"{input._data.ndim}, {vec._data.ndim}")
    return matmul(input, vec)


def dot(input, other):
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and "
                           f"{other._data.ndim}D tensors")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{input.dtype.name.capitalize()} and {other.dtype.name.capitalize()}")
    return matmul(input, other)


def inner(input, other):
    """The sum over the last dimension of both (a product with a 0-d operand)."""
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    return tensordot(input, other, ([-1], [-1]))


def vdot(input, other):
    return dot(input.conj() if input.is_complex() else input, other)


def outer(input, vec2):
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


class AddmmBackward0(Node):
    def backward(self, g):
        m1, m2 = self.saved
        gi = None
        if self.mi is not None:
            gi = sum_to(g if self.beta == 1 else g * self.beta, self.mi)
        ga = gb = None
        if self.ma:
            ga = (m2 @ g.mT).mT if self.ta else g @ m2.mT
            ga = ga if self.alpha == 1 else ga * self.alpha
        if self.mb:
            gb = (g.mT @ m1).mT if self.tb else m1.mT @ g
            gb = gb if self.alpha == 1 else gb * self.alpha
        return gi, ga, gb


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)`` in one buffer."""
    a, b = mat1._data, mat2._data
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError("mat1 must be a matrix, got " + str(a.ndim) + "-D tensor")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} "
                           f"and {b.shape[0]}x{b.shape[1]})")
    if a.dtype != b.dtype:
        _dtype_check(mat1, mat2, "addmm")
    if type(a) is not type(b) or type(input._data) is not type(a):
        check_same_device(input._data, a)
        check_same_device(input._data, b)
    r = a @ b
    if alpha != 1:
        r *= alpha
    i = input._data
    if beta != 0:
        if i.shape != r.shape and not (i.ndim == 1 and i.shape[0] == r.shape[1]):
            from .common import check_broadcast
            check_broadcast(r.shape, i.shape)
            if len(i.shape) > 2 or np.broadcast_shapes(i.shape, r.shape) != r.shape:
                raise RuntimeError(f"The expanded size of the tensor ({r.shape[-1]}) must match the "
                                   f"existing size ({i.shape[-1]}) at non-singleton dimension 1.  "
                                   f"Target sizes: {list(r.shape)}.  Tensor sizes: {list(i.shape)}")
        if i.dtype != r.dtype:
            raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                               f"{input.dtype.name.capitalize()} and {mat2.dtype.name.capitalize()}")
        r += i if beta == 1 else beta * i
    res = _wrap(r)
    if _gs[0] and (input._rg or mat1._rg or mat2._rg):
        n = AddmmBackward0((input, mat1, mat2))
        n.save(mat1 if mat2._rg else None, mat2 if mat1._rg else None)
        n.mi = i.shape if input._rg else None
        n.ma, n.mb, n.alpha, n.beta = mat1._rg, mat2._rg, alpha, beta
        n.ta, n.tb = _transposed(a), _transposed(b)
        attach(res, n)
    return res


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return beta * input + alpha * mv(mat, vec)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    return beta * input + alpha * outer(vec1, vec2)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    p = bmm(batch1, batch2)
    return (p if alpha == 1 else alpha * p) + (input if beta == 1 else beta * input)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    p = bmm(batch1, batch2).sum(0)
    return (p if alpha == 1 else alpha * p) + (input if beta == 1 else beta * input)


def chain_matmul(*matrices):
    return multi_dot(matrices)


def multi_dot(tensors):
    r = tensors[0]
    for t in tensors[1:]:
        r = matmul(r, t)
    return r


# ---------------------------------------------------------------- einsum
def _parse_einsum(eq, shapes):
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError(f"einsum(): more operands were provided than specified in the equation"
                           if len(shapes) > len(ins) else
                           "einsum(): fewer operands were provided than specified in the equation")
    used = set(eq)
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used]
    ell_n = 0
    for s, shp in zip(ins, shapes):
        if "..." in s:
            ell_n = max(ell_n, len(shp) - (len(s) - 3))
    ell = "".join(spare[:ell_n])
    out_ins = []
    for s, shp in zip(ins, shapes):
        if "..." in s:
            k = len(shp) - (len(s) - 3)
            s = s.replace("...", ell[ell_n - k:] if k else "")
        elif len(s) != len(shp):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(s)}) does "
                               f"not match the number of dimensions ({len(shp)}) for operand 0 and "
                               "no ellipsis was given")
        out_ins.append(s)
    if rhs is None:
        letters = "".join(out_ins)
        rhs = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    else:
        rhs = rhs.replace("...", ell)
    return out_ins, rhs


class EinsumBackward0(Node):
    def backward(self, g):
        ops = self.saved
        grads = []
        for i, (s, t) in enumerate(zip(self.ins, ops)):
            if not self.rg[i]:
                grads.append(None)
                continue
            others = [o for j, o in enumerate(ops) if j != i]
            other_s = [x for j, x in enumerate(self.ins) if j != i]
            avail = set(self.out) | set("".join(other_s))
            target = "".join(c for c in dict.fromkeys(s) if c in avail)
            if len(set(s)) != len(s):
                raise RuntimeError("einsum backward with repeated indices in one operand is not "
                                   "supported")
            gi = einsum(",".join([self.out] + other_s) + "->" + target, g, *others)
            if target != s:  # letters only this operand had: broadcast back
                shape = []
                for c in s:
                    shape.append(gi._data.shape[target.index(c)] if c in target else 1)
                perm = [target.index(c) for c in s if c in target]
                gi = gi.permute(perm) if perm != list(range(len(perm))) else gi
                gi = gi.reshape(shape).expand(self.shapes[i])
            grads.append(sum_to(gi, self.shapes[i]))
        return tuple(grads)


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ins, out = _parse_einsum(equation, [o._data.shape for o in operands])
    xp = xp_of(operands[0])
    dt = result_dtype(*operands)
    arrays = [o._data if o._data.dtype == dt.np else o._data.astype(dt.np) for o in operands]
    eq = ",".join(ins) + "->" + out
    r = _wrap(arr(xp.einsum(eq, *arrays, optimize=len(arrays) > 2)))
    if _gs[0] and any(o._rg for o in operands):
        n = EinsumBackward0(operands)
        n.save(*operands)
        n.ins, n.out, n.rg = ins, out, [o._rg for o in operands]
        n.shapes = [o._data.shape for o in operands]
        attach(r, n)
    return r


def tensordot(a, b, dims=2):
    if isinstance(dims, int):
        ax_a = list(range(a.dim() - dims, a.dim()))
        ax_b = list(range(dims))
    else:
        ax_a, ax_b = [list(x) if not isinstance(x, int) else [x] for x in dims]
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    sa = [next(letters) for _ in range(a.dim())]
    sb = [next(letters) for _ in range(b.dim())]
    for i, j in zip(ax_a, ax_b):
        sb[j % b.dim()] = sa[i % a.dim()]
    out = [c for i, c in enumerate(sa) if i not in [x % a.dim() for x in ax_a]] + \
          [c for j, c in enumerate(sb) if j not in [x % b.dim() for x in ax_b]]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out), a, b)


def kron(a, b):
    r = einsum("ij,kl->ikjl", a.reshape(a.shape[0], -1) if a.dim() > 1 else a.reshape(1, -1),
               b.reshape(b.shape[0], -1) if b.dim() > 1 else b.reshape(1, -1))
    s = r.shape
    out = r.reshape(s[0] * s[1], s[2] * s[3])
    return out.reshape(-1) if a.dim() == 1 and b.dim() == 1 else out


def cross(input, other, dim=None):
    if dim is None:
        dim = next(i for i, s in enumerate(input.shape) if s == 3)
    a0, a1, a2 = input.unbind(dim)
    b0, b1, b2 = other.unbind(dim)
    from .shape import stack
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim)


# ---------------------------------------------------------------- inverse, det, decompositions
class InverseBackward0(Node):
    def backward(self, g):
        r, = self.saved
        return -(r.mT @ g @ r.mT),


def inverse(input):
    try:
        r = _wrap(xp_of(input).linalg.inv(input._data))
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.inv: The diagonal element 1 is zero, the inversion could not be "
                           "completed because the input matrix is singular.") from None
    if _gs[0] and input._rg:
        n = InverseBackward0((input,))
        from ..autograd.graph import SavedOutput
        n.save(SavedOutput(r))
        attach(r, n)
    return r


class LinalgDetBackward0(Node):
    def backward(self, g):
        x, r = self.saved
        return (g * r).unsqueeze(-1).unsqueeze(-1) * inverse(x).mT,


def det(input):
    r = _wrap(arr(xp_of(input).linalg.det(input._data)))
    if _gs[0] and input._rg:
        n = LinalgDetBackward0((input,))
        from ..autograd.graph import SavedOutput
        n.save(input, SavedOutput(r))
        attach(r, n)
    return r


def _refuse_grad(input, name):
    """Decompositions without a derivative in ember refuse inputs that need one."""
    if _gs[0] and input._rg:
        raise NotImplementedError(f"the derivative for '{name}' is not implemented in ember")


def svd(input, some=True, compute_uv=True):
    """torch.svd: ``(U, S, V)`` with ``A = U diag(S) V^H``, from linalg.svd's ``Vh``."""
    from .. import linalg
    from .common import return_type
    from .creation import zeros
    if compute_uv:
        u, s, vh = linalg.svd(input, full_matrices=not some)
        v = vh.mT.conj().contiguous()
    else:
        s = linalg.svdvals(input)
        m, n = input.shape[-2:]
        u, v = (zeros(input.shape[:-2] + (k, k), dtype=input.dtype, device=input.device)
                for k in (m, n))
    return return_type("svd", (u, s, v), ("U", "S", "V"))


def qr(input, some=True):
    """torch.qr: ``(Q, R)``, reduced unless ``some=False``."""
    from .. import linalg
    from .common import return_type
    return return_type("qr", tuple(linalg.qr(input, "reduced" if some else "complete")),
                       ("Q", "R"))


def cholesky(input, upper=False):
    _refuse_grad(input, "cholesky")
    try:
        L = xp_of(input).linalg.cholesky(input._data)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.cholesky: The factorization could not be completed because "
                           "the input is not positive-definite.") from None
    return _wrap(xp_of(input).ascontiguousarray(L.swapaxes(-1, -2).conj()) if upper else L)


def pinverse(input, rcond=1e-15):
    _refuse_grad(input, "pinverse")
    return _wrap(xp_of(input).linalg.pinv(input._data, rcond=rcond))


def matrix_power(input, n):
    if n == 0:
        from .creation import eye
        return eye(input.shape[-1], dtype=input.dtype).expand_as(input)
    if n < 0:
        input, n = inverse(input), -n
    r = input
    for _ in range(n - 1):
        r = matmul(r, input)
    return r


def cdist(x1, x2, p=2.0, compute_mode=None):
    """Pairwise p-norm distances between the rows of ``x1`` (..., P, M) and
    ``x2`` (..., R, M); the Euclidean case by the expanded square."""
    from .reduce import norm
    from .pointwise import sqrt, clamp_min
    if p == 2.0 and compute_mode != "donot_use_mm_for_euclid_dist":
        sq = (x1 * x1).sum(-1).unsqueeze(-1) + (x2 * x2).sum(-1).unsqueeze(-2) - 2 * matmul(x1, x2.mT)
        return sqrt(clamp_min(sq, 0.0))
    return norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)


class LinalgSlogdetBackward0(Node):
    def backward(self, g):  # of log|det|; the sign has no gradient
        x, = self.saved
        return g.unsqueeze(-1).unsqueeze(-1) * inverse(x).mT,


def slogdet(input):
    """``(sign, log|det|)``, differentiable in ``log|det|`` (d/dA = A^-T)."""
    from .common import return_type
    sign, logabs = xp_of(input).linalg.slogdet(input._data)
    s, la = _wrap(arr(sign.astype(input._data.dtype))), _wrap(arr(logabs))
    if _gs[0] and input._rg:
        n = LinalgSlogdetBackward0((input,))
        n.save(input)
        attach(la, n)
    return return_type("slogdet", (s, la), ("sign", "logabsdet"))


def logdet(input):
    """``log det``: NaN for a negative determinant, as torch."""
    from .pointwise import where
    sign, logabs = slogdet(input)
    return where(sign < 0, math.nan, logabs)

