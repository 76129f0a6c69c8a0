"""ember.linalg and torch's top-level linear algebra (svd, qr, cholesky,
pinverse) against torch: values, shapes, named-tuple fields, gradients of
the differentiable functions, and the decompositions' refusal of inputs that
need a derivative ember does not have."""
import math

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check_op

pytestmark = pytest.mark.usefixtures("each_device")  # CPU, fake CuPy, GPU

rng = np.random.default_rng(0)
A43 = rng.standard_normal((4, 3))
SQ = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)  # a batch of well-conditioned matrices
SPD = SQ @ SQ.swapaxes(-1, -2) + np.eye(3)


@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm(ord, keepdim):
    check_op(lambda lib, a: lib.linalg.matrix_norm(a, ord, keepdim=keepdim), A43)
    check_op(lambda lib, a: lib.linalg.matrix_norm(a, ord, dim=(2, 0)), SQ)


@pytest.mark.parametrize("ord", ["nuc", 2, -2])
def test_matrix_norm_by_singular_values(ord):
    check_op(lambda lib, a: lib.linalg.matrix_norm(a, ord), SQ, requires_grad=False)


@pytest.mark.parametrize("call", [
    lambda L, a: L.norm(a), lambda L, a: L.norm(a, 1), lambda L, a: L.norm(a, dim=1),
    lambda L, a: L.norm(a, math.inf, dim=0), lambda L, a: L.norm(a, "fro", dim=(0, 1)),
    lambda L, a: L.vector_norm(a, 3), lambda L, a: L.vector_norm(a, 0.5, dim=1, keepdim=True),
])
def test_norm_and_vector_norm(call):
    check_op(lambda lib, a: call(lib.linalg, a), A43)


def test_inv_det_solve_cross_multi_dot_with_gradients():
    check_op(lambda lib, a: lib.linalg.inv(a), SQ)
    check_op(lambda lib, a: lib.linalg.det(a), SQ)
    b = rng.standard_normal((2, 3, 2))
    check_op(lambda lib, a, b: lib.linalg.solve(a, b), SQ, b)
    check_op(lambda lib, a, b: lib.linalg.solve(a[0], b[0, :, 0]), SQ, b)
    check_op(lambda lib, a, b: lib.linalg.solve(a, b.mT, left=False), SQ, b)
    check_op(lambda lib, a, b: lib.linalg.cross(a, b), rng.standard_normal((4, 3)),
             rng.standard_normal((4, 3)))
    check_op(lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]), A43, SQ[0], A43.T)
    check_op(lambda lib, a: lib.linalg.matrix_power(a, 3), SQ)


def test_decompositions_equal_torch():
    e, t = ember.tensor(SQ), torch.tensor(SQ)
    es, ts = ember.linalg.svd(e), torch.linalg.svd(t)
    assert type(es).__name__ == "linalg_svd" and es._fields == ("U", "S", "Vh")
    assert_close(es.S, ts.S)
    assert_close(es.U @ ember.diag_embed(es.S) @ es.Vh, t)
    assert_close(ember.linalg.svdvals(e), torch.linalg.svdvals(t))
    ee, te = ember.linalg.eigh(ember.tensor(SPD)), torch.linalg.eigh(torch.tensor(SPD))
    assert ee._fields == ("eigenvalues", "eigenvectors")
    assert_close(ee.eigenvalues, te.eigenvalues)
    assert_close(ember.abs(ee.eigenvectors), torch.abs(te.eigenvectors))
    assert_close(ember.linalg.eigvalsh(ember.tensor(SPD), "U"),
                 torch.linalg.eigvalsh(torch.tensor(SPD), "U"))
    for mode in ("reduced", "complete"):
        eq, tq = ember.linalg.qr(ember.tensor(A43), mode), torch.linalg.qr(torch.tensor(A43), mode)
        assert_close(ember.abs(eq.R), torch.abs(tq.R))
        assert_close(eq.Q @ eq.R, torch.tensor(A43))
    for upper in (False, True):
        assert_close(ember.linalg.cholesky(ember.tensor(SPD), upper=upper),
                     torch.linalg.cholesky(torch.tensor(SPD), upper=upper))
    assert_close(ember.linalg.pinv(ember.tensor(A43)), torch.linalg.pinv(torch.tensor(A43)))
    assert_close(ember.linalg.matrix_rank(ember.tensor(A43 @ A43.T)),
                 torch.linalg.matrix_rank(torch.tensor(A43 @ A43.T)))


@pytest.mark.parametrize("some", [True, False])
def test_torch_svd_returns_v(some):
    e, t = ember.svd(ember.tensor(A43), some=some), torch.svd(torch.tensor(A43), some=some)
    assert e._fields == ("U", "S", "V")
    for a, b in zip(e, t):
        assert tuple(a.shape) == tuple(b.shape)
    assert_close(e.S, t.S)
    k = 3
    assert_close(e.U[:, :k] @ ember.diag(e.S) @ e.V[:, :k].T, torch.tensor(A43))
    ez, tz = ember.svd(ember.tensor(A43), compute_uv=False), torch.svd(torch.tensor(A43),
                                                                        compute_uv=False)
    for a, b in zip(ez, tz):
        assert_close(a, b)


def test_torch_qr_cholesky_pinverse():
    for some in (True, False):
        eq, tq = ember.qr(ember.tensor(A43), some), torch.linalg.qr(
            torch.tensor(A43), "reduced" if some else "complete")
        assert eq._fields == ("Q", "R") and tuple(eq.Q.shape) == tuple(tq.Q.shape)
        assert_close(eq.Q @ eq.R, torch.tensor(A43))
    assert_close(ember.cholesky(ember.tensor(SPD), upper=True),
                 torch.linalg.cholesky(torch.tensor(SPD), upper=True))
    assert_close(ember.pinverse(ember.tensor(A43)), torch.pinverse(torch.tensor(A43)))
    with pytest.raises(RuntimeError, match="not positive-definite"):
        ember.linalg.cholesky(-ember.eye(2))


@pytest.mark.parametrize("call", [
    lambda a: ember.linalg.svd(a), lambda a: ember.linalg.eigh(a @ a.T), lambda a: ember.qr(a),
    lambda a: ember.linalg.pinv(a), lambda a: ember.linalg.matrix_norm(a, "nuc"),
])
def test_decompositions_refuse_inputs_that_need_a_derivative(call):
    a = ember.tensor(SQ[0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="derivative"):
        call(a)
    with ember.no_grad():
        call(a)


def test_torch_norm_nuclear():
    check_op(lambda lib, a: lib.norm(a, "nuc"), A43, requires_grad=False)
    check_op(lambda lib, a: lib.norm(a, "nuc", dim=(0, 2), keepdim=True), SQ, requires_grad=False)
