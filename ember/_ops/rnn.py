"""Fused recurrent layers: one graph node per layer and direction (torch's
``MkldnnRnnLayerBackward0``), for the Elman RNN (tanh / relu), LSTM (with
optional projection) and GRU.

The sequence is always *packed*: ``input`` is ``(N, F)`` with the time steps
stacked in order and ``batch_sizes[t]`` rows at step t (non-increasing), so
padded batches (every step full) and ``PackedSequence`` data share one
kernel. The input projection of all steps is one matrix product; the step
loop does only the hidden-state work on backend arrays, writing into
preallocated buffers. A running state of the full batch holds each
sequence's state: a step updates its first ``bs`` rows, so a sequence that
has ended keeps its final state (forward direction) and one that has not
started yet keeps its initial state (reverse direction).

Backward is backpropagation through time over the saved gate activations,
again one matrix product per step; the weight gradients are one product
each over all steps. It works on raw arrays, so under ``create_graph`` the
node recomputes the layer op by op with ember ops and differentiates that
(slow, but exact to any order).
"""
import contextlib
import functools

import numpy as np

from .._tensor import _wrap
from ..autograd.graph import Node, SavedOutput
from .common import attach, xp_of, _gs

LSTM, GRU, RNN_TANH, RNN_RELU = "LSTM", "GRU", "RNN_TANH", "RNN_RELU"
_SCALAR_NAMES = {"float64": "Double", "float32": "Float", "float16": "Half", "bfloat16": "BFloat16"}


def check_same_dtype(a, b):
    """torch's error for a matrix product of two dtypes."""
    if a.dtype != b.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                           f"{_SCALAR_NAMES.get(a.dtype.name, a.dtype.name)} and "
                           f"{_SCALAR_NAMES.get(b.dtype.name, b.dtype.name)}")


_SMALL_STEP = 1 << 23  # multiply-adds of one step's product below which one BLAS thread wins


@functools.lru_cache(maxsize=None)
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def _step_threads(xp, batch, gates, hidden):
    """Context for a step loop: one BLAS thread when each step's product is
    small. OpenBLAS's hand-off to a second thread costs more than it saves
    there (about 1.5x slower at 20 x 256 x 1024), and far more on a busy
    machine."""
    ctl = _blas_controller() if xp is np and batch * gates * hidden < _SMALL_STEP else None
    return ctl.limit(limits=1, user_api="blas") if ctl is not None else contextlib.nullcontext()


def _steps(batch_sizes, reverse):
    """``(row offset, batch size)`` of each step in processing order."""
    steps, off = [], 0
    for bs in batch_sizes:
        steps.append((off, bs))
        off += bs
    return steps[::-1] if reverse else steps


# ------------------------------------------------------------------ forward kernels
# Each takes Z: the input projection (N, G) plus the folded biases, which it
# overwrites with the gate activations, and returns (out, h_n, c_n, saved).

def _begin_step(xp, h, Z, Hp, tmp, whh_t, off, bs):
    """The running state's first ``bs`` rows (kept in ``Hp`` for backward),
    this step's rows of Z, and ``h @ W_hh^T`` in ``tmp``."""
    hp = h[:bs]
    if Hp is not None:
        Hp[off:off + bs] = hp
    t = tmp[:bs]
    xp.matmul(hp, whh_t, out=t)
    return hp, Z[off:off + bs], t


def _lstm_forward(xp, Z, h, c, w_hh, b_hh, w_hr, steps, keep):
    """Gates i, f, g, o. Sigmoid is computed as 0.5 * tanh(x / 2) + 0.5, so
    the rows of W_hh and columns of Z for i, f, o are halved once and one
    tanh over all four gates does every step."""
    H = c.shape[1]
    dt = Z.dtype
    scale = xp.full(4 * H, 0.5, dtype=dt)
    scale[2 * H:3 * H] = 1
    shift = xp.full(4 * H, 0.5, dtype=dt)
    shift[2 * H:3 * H] = 0
    if b_hh is not None:
        Z += b_hh
    Z *= scale
    whh_t = (w_hh * scale[:, None]).T
    whr_t = w_hr.T if w_hr is not None else None
    N, B = Z.shape[0], h.shape[0]
    out = xp.empty((N, h.shape[1]), dtype=dt)
    hpre = xp.empty((N, H), dtype=dt) if w_hr is not None else out
    Hp = xp.empty((N, h.shape[1]), dtype=dt) if keep else None
    Cp = xp.empty((N, H), dtype=dt) if keep else None
    TC = xp.empty((N, H), dtype=dt)
    tmp = xp.empty((B, 4 * H), dtype=dt)
    for off, bs in steps:
        end = off + bs
        cp = c[:bs]
        if keep:
            Cp[off:end] = cp
        hp, z, t = _begin_step(xp, h, Z, Hp, tmp, whh_t, off, bs)
        z += t
        xp.tanh(z, out=z)
        z *= scale
        z += shift
        ig = t[:, :H]
        xp.multiply(z[:, :H], z[:, 2 * H:3 * H], out=ig)
        cp *= z[:, H:2 * H]
        cp += ig
        tc = TC[off:end]
        xp.tanh(cp, out=tc)
        hn = hpre[off:end]
        xp.multiply(z[:, 3 * H:], tc, out=hn)
        if whr_t is not None:
            hn = out[off:end]
            xp.matmul(hpre[off:end], whr_t, out=hn)
        hp[...] = hn
    saved = (Hp, Cp, TC, hpre if w_hr is not None else None) if keep else None
    return out, h, c, saved


def _gru_forward(xp, Z, h, c, w_hh, b_hh, w_hr, steps, keep):
    """Gates r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); r
    and z use the halved-tanh sigmoid as in the LSTM."""
    H = h.shape[1]
    dt = Z.dtype
    if b_hh is not None:
        Z[:, :2 * H] += b_hh[:2 * H]
    Z[:, :2 * H] *= 0.5
    whh_t = w_hh.T.copy()
    whh_t[:, :2 * H] *= 0.5
    b_hn = b_hh[2 * H:] if b_hh is not None else None
    N, B = Z.shape[0], h.shape[0]
    out = xp.empty((N, H), dtype=dt)
    GHn = xp.empty((N, H), dtype=dt)       # W_hn h + b_hn
    HmN = xp.empty((N, H), dtype=dt)       # h_prev - n
    Hp = xp.empty((N, H), dtype=dt) if keep else None
    tmp = xp.empty((B, 3 * H), dtype=dt)
    for off, bs in steps:
        end = off + bs
        hp, z, t = _begin_step(xp, h, Z, Hp, tmp, whh_t, off, bs)
        rz = z[:, :2 * H]
        rz += t[:, :2 * H]
        xp.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        ghn = GHn[off:end]
        if b_hn is not None:
            xp.add(t[:, 2 * H:], b_hn, out=ghn)
        else:
            ghn[...] = t[:, 2 * H:]
        n = z[:, 2 * H:]
        rg = t[:, :H]
        xp.multiply(z[:, :H], ghn, out=rg)
        n += rg
        xp.tanh(n, out=n)
        hm = HmN[off:end]
        xp.subtract(hp, n, out=hm)
        hn = out[off:end]
        xp.multiply(z[:, H:2 * H], hm, out=hn)
        hn += n
        hp[...] = hn
    return out, h, None, ((Hp, GHn, HmN) if keep else None)


def _rnn_forward(relu):
    def forward(xp, Z, h, c, w_hh, b_hh, w_hr, steps, keep):
        if b_hh is not None:
            Z += b_hh
        whh_t = w_hh.T
        Hp = xp.empty((Z.shape[0], h.shape[1]), dtype=Z.dtype) if keep else None
        tmp = xp.empty(h.shape, dtype=Z.dtype)
        for off, bs in steps:
            hp, z, t = _begin_step(xp, h, Z, Hp, tmp, whh_t, off, bs)
            z += t
            if relu:
                xp.clip(z, 0, np.inf, out=z)  # relu (see pointwise.relu)
            else:
                xp.tanh(z, out=z)
            hp[...] = z
        return Z, h, None, ((Hp,) if keep else None)
    return forward


# ------------------------------------------------------------------ backward kernels
# Each returns (dZ: gradient of the gate pre-activations fed by the input
# projection, dG: that of the W_hh product (for dW_hh, db_hh), dh0, dc0, dW_hr).

def _lstm_backward(xp, n, dout, dh, dc):
    Z, w_hh, w_hr = n.Z, n.w_hh, n.w_hr
    Hp, Cp, TC, hpre = n.kept
    H = TC.shape[1]
    sig = Z * (1 - Z)                     # sigmoid' of i, f, o (g fixed below)
    g = Z[:, 2 * H:3 * H]
    xp.multiply(g, g, out=sig[:, 2 * H:3 * H])
    xp.subtract(1, sig[:, 2 * H:3 * H], out=sig[:, 2 * H:3 * H])
    K = 1 - TC * TC                        # d c / d (h before the output gate) / o
    K *= Z[:, 3 * H:]
    dZ = xp.empty_like(Z)
    dH = xp.empty_like(dout) if w_hr is not None and n.need_whr else None
    tmp = xp.empty((dh.shape[0], H), dtype=Z.dtype)
    for off, bs in n.steps[::-1]:
        end = off + bs
        dht, dct, z, dz = dh[:bs], dc[:bs], Z[off:end], dZ[off:end]
        if dout is not None:
            dht += dout[off:end]
        if w_hr is not None:
            if dH is not None:
                dH[off:end] = dht
            dhh = xp.matmul(dht, w_hr)
        else:
            dhh = dht
        xp.multiply(dhh, TC[off:end], out=dz[:, 3 * H:])
        t = tmp[:bs]
        xp.multiply(dhh, K[off:end], out=t)
        dct += t
        xp.multiply(dct, z[:, 2 * H:3 * H], out=dz[:, :H])
        xp.multiply(dct, Cp[off:end], out=dz[:, H:2 * H])
        xp.multiply(dct, z[:, :H], out=dz[:, 2 * H:3 * H])
        dct *= z[:, H:2 * H]
        dz *= sig[off:end]
        xp.matmul(dz, w_hh, out=dht)
    dwhr = dH.T @ hpre if dH is not None else None
    return dZ, dZ, dh, dc, dwhr


def _gru_backward(xp, n, dout, dh, dc):
    Z, w_hh = n.Z, n.w_hh
    Hp, GHn, HmN = n.kept
    H = Hp.shape[1]
    r, z, nn_ = Z[:, :H], Z[:, H:2 * H], Z[:, 2 * H:]
    Dn = (1 - z) * (1 - nn_ * nn_)         # d h / d (n pre-activation)
    Dz = HmN * z * (1 - z)                 # d h / d (z pre-activation)
    Dr = GHn * r * (1 - r)                 # d (n pre-activation) / d (r pre-activation)
    dG = xp.empty_like(Z)
    dXn = xp.empty((Z.shape[0], H), dtype=Z.dtype)
    tmp = xp.empty(dh.shape, dtype=Z.dtype)
    for off, bs in n.steps[::-1]:
        end = off + bs
        dht, dg, dnp = dh[:bs], dG[off:end], dXn[off:end]
        if dout is not None:
            dht += dout[off:end]
        xp.multiply(dht, Dn[off:end], out=dnp)
        xp.multiply(dht, Dz[off:end], out=dg[:, H:2 * H])
        xp.multiply(dnp, Dr[off:end], out=dg[:, :H])
        xp.multiply(dnp, r[off:end], out=dg[:, 2 * H:])
        t = tmp[:bs]
        xp.matmul(dg, w_hh, out=t)
        dht *= z[off:end]
        dht += t
    dZ = dG.copy()
    dZ[:, 2 * H:] = dXn
    return dZ, dG, dh, None, None


def _rnn_backward(relu):
    def backward(xp, n, dout, dh, dc):
        Y, w_hh = n.Z, n.w_hh
        D = (Y > 0).astype(Y.dtype) if relu else 1 - Y * Y
        dZ = xp.empty_like(Y)
        for off, bs in n.steps[::-1]:
            end = off + bs
            dht, dz = dh[:bs], dZ[off:end]
            if dout is not None:
                dht += dout[off:end]
            xp.multiply(dht, D[off:end], out=dz)
            xp.matmul(dz, w_hh, out=dht)
        return dZ, dZ, dh, None, None
    return backward


_KERNELS = {
    LSTM: (_lstm_forward, _lstm_backward),
    GRU: (_gru_forward, _gru_backward),
    RNN_TANH: (_rnn_forward(False), _rnn_backward(False)),
    RNN_RELU: (_rnn_forward(True), _rnn_backward(True)),
}


class MkldnnRnnLayerBackward0(Node):
    """Backward of one layer and direction; inputs (input, w_ih, w_hh,
    b_ih, b_hh, hx, cx, w_hr); outputs (output, h_n, c_n)."""

    num_outputs = 3

    def backward(self, dout, dhn, dcn):
        if _gs[0]:
            return self._differentiable(dout, dhn, dcn)
        x, w_ih, w_hh, b_ih, b_hh, h0, c0, w_hr, y = self.saved
        if y is not None:  # the Elman kernel's output is its saved activation
            self.Z = y._data
        xp = xp_of(x)
        self.w_hh, self.w_hr = w_hh._data, w_hr._data if w_hr is not None else None
        self.need_whr = w_hr is not None and w_hr._rg
        dh = dhn._data.copy() if dhn is not None else xp.zeros(self.hshape, self.Z.dtype)
        dc = None
        if self.mode == LSTM:
            dc = dcn._data.copy() if dcn is not None else xp.zeros(self.cshape, self.Z.dtype)
        with _step_threads(xp, dh.shape[0], self.Z.shape[1], dh.shape[1]):
            dZ, dG, dh0, dc0, dwhr = _KERNELS[self.mode][1](
                xp, self, dout._data if dout is not None else None, dh, dc)
        X = x._data
        return (_wrap(dZ @ w_ih._data) if x._rg else None,
                _wrap(dZ.T @ X) if w_ih._rg else None,
                _wrap(dG.T @ self.kept[0]) if w_hh._rg else None,
                _wrap(dZ.sum(0)) if b_ih is not None and b_ih._rg else None,
                _wrap(dG.sum(0)) if b_hh is not None and b_hh._rg else None,
                _wrap(dh0) if h0._rg else None,
                _wrap(dc0) if c0 is not None and c0._rg else None,
                _wrap(dwhr) if dwhr is not None else None)

    def _differentiable(self, *grads):
        """create_graph: recompute the layer with ember ops and differentiate it."""
        from ..autograd import grad
        inputs = self.saved[:8]
        outs = _layer_by_ops(self.mode, *inputs, self.steps)
        pairs = [(o, g) for o, g in zip(outs, grads) if o is not None and g is not None]
        wanted = [i for i, t in enumerate(inputs) if t is not None and t._rg]
        res = grad([o for o, _ in pairs], [inputs[i] for i in wanted], [g for _, g in pairs],
                   create_graph=True, allow_unused=True)
        out = [None] * len(inputs)
        for i, r in zip(wanted, res):
            out[i] = r
        return tuple(out)

    def free_buffers(self):
        self.Z = self.kept = self.w_hh = self.w_hr = None


def rnn_layer(mode, input, batch_sizes, hx, cx, w_ih, w_hh, b_ih, b_hh, w_hr=None,
              reverse=False):
    """One layer in one direction over packed ``input`` ``(N, F)`` with
    ``batch_sizes`` (Python ints); ``hx`` ``(B, Hr)``, ``cx`` ``(B, H)``
    (LSTM only). Returns ``(output (N, Hr), h_n, c_n or None)``."""
    for state in (hx, cx):
        if state is not None:
            check_same_dtype(state, w_hh)
    xp = xp_of(input)
    steps = _steps(batch_sizes, reverse)
    Z = input._data @ w_ih._data.T
    if b_ih is not None:
        Z += b_ih._data
    ins = (input, w_ih, w_hh, b_ih, b_hh, hx, cx, w_hr)
    keep = _gs[0] and any(t is not None and t._rg for t in ins)
    with _step_threads(xp, hx.shape[0], Z.shape[1], hx.shape[1]):
        out, h, c, kept = _KERNELS[mode][0](
            xp, Z, hx._data.copy(), cx._data.copy() if cx is not None else None, w_hh._data,
            b_hh._data if b_hh is not None else None, w_hr._data if w_hr is not None else None,
            steps, keep)
    out, h = _wrap(out), _wrap(h)
    c = _wrap(c) if c is not None else None
    if keep:
        n = MkldnnRnnLayerBackward0(ins)
        attach(out, n, 0)
        attach(h, n, 1)
        if c is not None:
            attach(c, n, 2)
        elman = mode in (RNN_TANH, RNN_RELU)
        n.save(*ins, SavedOutput(out) if elman else None)
        n.mode, n.steps, n.Z, n.kept = mode, steps, None if elman else Z, kept
        n.hshape, n.cshape = hx._data.shape, cx._data.shape if cx is not None else None
    return out, h, c


def _layer_by_ops(mode, x, w_ih, w_hh, b_ih, b_hh, h, c, w_hr, steps):
    """The same layer composed of differentiable ember ops, step by step."""
    from . import linalg as L, pointwise as P, shape as S
    from .activation import relu

    def linear(a, w, b):
        return L.addmm(b, a, w.t()) if b is not None else L.mm(a, w.t())

    gx = linear(x, w_ih, b_ih)
    outs = {}
    for off, bs in steps:
        hp = S.narrow(h, 0, 0, bs)
        gates = S.narrow(gx, 0, off, bs)
        gh = linear(hp, w_hh, b_hh)
        if mode == LSTM:
            i, f, g, o = S.chunk(gates + gh, 4, 1)
            cn = P.sigmoid(f) * S.narrow(c, 0, 0, bs) + P.sigmoid(i) * P.tanh(g)
            hn = P.sigmoid(o) * P.tanh(cn)
            if w_hr is not None:
                hn = L.mm(hn, w_hr.t())
            c = S.cat([cn, S.narrow(c, 0, bs, c.shape[0] - bs)]) if bs < c.shape[0] else cn
        elif mode == GRU:
            xr, xz, xn = S.chunk(gates, 3, 1)
            hr, hz, hn_ = S.chunk(gh, 3, 1)
            r, z = P.sigmoid(xr + hr), P.sigmoid(xz + hz)
            nn_ = P.tanh(xn + r * hn_)
            hn = (1 - z) * nn_ + z * hp
        else:
            hn = relu(gates + gh) if mode == RNN_RELU else P.tanh(gates + gh)
        outs[off] = hn
        h = S.cat([hn, S.narrow(h, 0, bs, h.shape[0] - bs)]) if bs < h.shape[0] else hn
    out = S.cat([outs[k] for k in sorted(outs)])
    return out, h, (c if mode == LSTM else None)
