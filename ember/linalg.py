"""``ember.linalg``: torch.linalg's functions.

``inv``, ``det``, ``solve``, ``cross``, ``matrix_power`` and the norms have
derivatives (ember ops). The decompositions (``qr``, ``svd``, ``eigh``,
``cholesky``, ``pinv``, ...) call the array module's LAPACK routines and
refuse inputs that require grad: ember has no derivative for them.
"""
import math

from ._tensor import _wrap
from ._ops import linalg as _L, reduce as _R
from ._ops.common import return_type as _return_type, xp_of as _xp_of
from ._ops.linalg import inverse as inv, det, slogdet as _slogdet, matrix_power, \
    cholesky as _cholesky, _refuse_grad

__all__ = ["inv", "det", "slogdet", "solve", "cross", "matrix_power", "qr", "svd", "svdvals", "eigh",
           "eigvalsh", "cholesky", "matrix_rank", "pinv", "vector_norm", "matrix_norm", "norm",
           "multi_dot"]


def slogdet(A):
    sign, logabsdet = _slogdet(A)
    return _return_type("linalg_slogdet", (sign, logabsdet), ("sign", "logabsdet"))


def solve(A, B, *, left=True):
    """``X`` with ``A X = B`` (``X A = B`` when ``left=False``)."""
    if not left:
        return solve(A.mT, B.mT).mT
    return _L.matmul(inv(A), B) if B.dim() > 1 else _L.mv(inv(A), B)


def cross(input, other, *, dim=-1):
    return _L.cross(input, other, dim)


def multi_dot(tensors):
    out = tensors[0]
    for t in tensors[1:]:
        out = _L.matmul(out, t)
    return out


def qr(A, mode="reduced"):
    _refuse_grad(A, "linalg_qr")
    q, r = _xp_of(A).linalg.qr(A._data, mode=mode)
    return _return_type("linalg_qr", (_wrap(q), _wrap(r)), ("Q", "R"))


def svd(A, full_matrices=True):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``."""
    _refuse_grad(A, "linalg_svd")
    u, s, vh = _xp_of(A).linalg.svd(A._data, full_matrices=full_matrices)
    return _return_type("linalg_svd", (_wrap(u), _wrap(s), _wrap(vh)), ("U", "S", "Vh"))


def svdvals(A):
    _refuse_grad(A, "linalg_svdvals")
    return _wrap(_xp_of(A).linalg.svd(A._data, compute_uv=False))


def eigh(A, UPLO="L"):
    _refuse_grad(A, "linalg_eigh")
    w, v = _xp_of(A).linalg.eigh(A._data, UPLO=UPLO)
    return _return_type("linalg_eigh", (_wrap(w), _wrap(v)), ("eigenvalues", "eigenvectors"))


def eigvalsh(A, UPLO="L"):
    _refuse_grad(A, "linalg_eigvalsh")
    return _wrap(_xp_of(A).linalg.eigvalsh(A._data, UPLO=UPLO))


def cholesky(A, *, upper=False):
    return _cholesky(A, upper)


def matrix_rank(A, *, hermitian=False):
    xp = _xp_of(A)
    return _wrap(xp.asarray(xp.linalg.matrix_rank(A._data, hermitian=hermitian), dtype="int64"))


def pinv(A, *, hermitian=False):
    _refuse_grad(A, "linalg_pinv")
    return _wrap(_xp_of(A).linalg.pinv(A._data, hermitian=hermitian))


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    return _R.norm(x, ord, dim, keepdim, dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Frobenius, nuclear, 1, -1, inf, -inf, 2 and -2 norms over the two ``dim``."""
    if dtype is not None:
        A = A.to(dtype)
    if ord == "fro":
        return _R.norm(A, "fro", dim, keepdim)
    r, c = (d % A.dim() for d in dim)
    if ord in ("nuc", 2, -2):
        s = svdvals(A.movedim((r, c), (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        return out.unsqueeze(min(r, c)).unsqueeze(max(r, c)) if keepdim else out
    if ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    summed, over = (r, c) if ord in (1, -1) else (c, r)  # 1: largest column sum
    sums = _R.sum(A.abs(), summed, True)
    out = sums.amax(over, True) if ord > 0 else sums.amin(over, True)
    return out if keepdim else out.squeeze((r, c))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm, or a matrix norm for a 2-tuple ``dim`` (or a 2-D input
    with ``ord`` given and no ``dim``)."""
    if isinstance(dim, int):
        dim = (dim,)
    if (dim is not None and len(dim) == 2) or (dim is None and ord is not None and A.dim() == 2):
        return matrix_norm(A, "fro" if ord is None else ord, dim or (-2, -1), keepdim,
                           dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
