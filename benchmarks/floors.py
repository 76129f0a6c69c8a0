"""The NumPy floors: forward, backward and update of W1, W2, W4 and W5
written by hand in NumPy, from the same data and weights as the framework
workloads (``workloads.py``). Their step time is what NumPy itself costs, so
``framework time / floor time`` is the framework's overhead.

Each floor keeps ``params`` (in ``model.parameters()`` order, updated in
place) and the ``grads`` of its last step; ``step()`` returns the loss.
Layouts are the floor's own choice (the CNN runs channels-last), as a
hand-written program would; results agree with torch's.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import workloads as W


class Floor:
    def __init__(self, shapes):
        self.params = W.weights(shapes)
        self.grads = [None] * len(shapes)

    def step(self):
        raise NotImplementedError


class SGD:
    """torch.optim.SGD: ``buf = momentum * buf + g`` (``buf = g`` at first), ``p -= lr * buf``."""

    def __init__(self, params, lr, momentum=0.0):
        self.params, self.lr, self.momentum = params, lr, momentum
        self.bufs = [None] * len(params)
        self.tmp = [np.empty_like(p) for p in params]

    def step(self, grads):
        for i, g in enumerate(grads):
            self.update(i, g)

    def update(self, i, g):
        p, t = self.params[i], self.tmp[i]
        if self.momentum:
            b = self.bufs[i]
            if b is None:
                b = self.bufs[i] = g.copy()
            else:
                b *= self.momentum
                b += g
            g = b
        np.multiply(g, -self.lr, out=t)
        p += t


class Adam:
    """torch.optim.Adam (single-tensor formulas, in place)."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t1 = [np.empty_like(p) for p in params]
        self.t2 = [np.empty_like(p) for p in params]
        self.steps = 0

    def step(self, grads):
        self.steps += 1
        for i, g in enumerate(grads):
            self.update(i, g)

    def update(self, i, g):
        b1, b2 = self.betas
        m, v, t1, t2 = self.m[i], self.v[i], self.t1[i], self.t2[i]
        t = self.steps
        np.subtract(g, m, out=t1)  # m.lerp_(g, 1 - b1)
        t1 *= 1 - b1
        m += t1
        v *= b2  # v = b2 * v + (1 - b2) * g * g
        np.multiply(g, 1 - b2, out=t1)
        t1 *= g
        v += t1
        np.sqrt(v, out=t2)
        t2 /= (1 - b2 ** t) ** 0.5
        t2 += self.eps
        np.multiply(m, -self.lr / (1 - b1 ** t), out=t1)
        t1 /= t2
        self.params[i] += t1


def _linear_shapes(*sizes):
    out = []
    for a, b in zip(sizes, sizes[1:]):
        out += [(b, a), (b,)]
    return out


def _cross_entropy(logits, y):
    """Mean cross-entropy and its gradient with respect to ``logits``."""
    n = len(y)
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    s = e.sum(1, keepdims=True)
    loss = float(np.log(s[:, 0]).sum() - z[np.arange(n), y].sum()) / n
    e /= s
    e[np.arange(n), y] -= 1
    e /= n
    return loss, e


class MLP(Floor):
    """W1: 784-512-256-128-64-10 ReLU, cross-entropy, SGD(0.01, momentum 0.5)."""

    def __init__(self):
        super().__init__(_linear_shapes(784, 512, 256, 128, 64, 10))
        x, self.y = W.mlp_data()
        self.x = x.reshape(len(x), -1)
        self.opt = SGD(self.params, 0.01, 0.5)

    def step(self):
        p = self.params
        n = len(p) // 2
        acts = [self.x]
        h = self.x
        for i in range(n):
            h = h @ p[2 * i].T
            h += p[2 * i + 1]
            if i < n - 1:
                np.maximum(h, 0, out=h)
            acts.append(h)
        loss, g = _cross_entropy(h, self.y)
        for i in reversed(range(n)):
            a = acts[i]
            gw, gb = g.T @ a, g.sum(0)
            if i:
                g = g @ p[2 * i]
                g *= a > 0
            self.grads[2 * i], self.grads[2 * i + 1] = gw, gb
        self.opt.step(self.grads)
        return loss


# ---------------------------------------------------------------- W2 (channels-last)
def _conv(x, wm, b, k):
    """Valid k x k convolution of NHWC ``x`` with weight matrix ``wm`` (F, C*k*k):
    one copy into columns, one GEMM. Returns NHWC output and the columns."""
    n, h, w, c = x.shape
    ho, wo = h - k + 1, w - k + 1
    cols = sliding_window_view(x, (k, k), axis=(1, 2)).reshape(n * ho * wo, c * k * k)
    y = cols @ wm.T
    y += b
    return y.reshape(n, ho, wo, -1), cols


def _conv_input_grad(gy, wm, shape, k):
    """col2im: the column gradients added back by looping over the k*k offsets."""
    n, ho, wo, f = gy.shape
    c = shape[3]
    gcols = (gy.reshape(-1, f) @ wm).reshape(n, ho, wo, c, k, k)
    gx = np.zeros(shape, gy.dtype)
    for i in range(k):
        for j in range(k):
            gx[:, i:i + ho, j:j + wo, :] += gcols[..., i, j]
    return gx


def _pool2(x):
    """2x2 max-pool of NHWC ``x`` by a loop over the 4 offsets."""
    out = x[:, ::2, ::2].copy()
    for i, j in ((0, 1), (1, 0), (1, 1)):
        np.maximum(out, x[:, i::2, j::2], out=out)
    return out


def _pool2_grad(g, x, out):
    """Gradient to the first maximum of each window."""
    gx = np.zeros_like(x)
    free = np.ones(out.shape, bool)
    for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)):
        hit = x[:, i::2, j::2] == out
        hit &= free
        free &= ~hit
        gx[:, i::2, j::2] = g * hit
    return gx


class CNN(Floor):
    """W2: the seed CNN, cross-entropy, SGD(0.01, momentum 0.5)."""

    def __init__(self):
        super().__init__([(10, 1, 5, 5), (10,), (20, 10, 5, 5), (20,), (10, 320), (10,)])
        x, self.y = W.mlp_data()
        self.x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        self.opt = SGD(self.params, 0.01, 0.5)

    def step(self):
        w1, b1, w2, b2, wf, bf = self.params
        n = len(self.x)
        m1, m2 = w1.reshape(10, -1), w2.reshape(20, -1)
        c1, cols1 = _conv(self.x, m1, b1, 5)
        p1 = _pool2(c1)
        r1 = np.maximum(p1, 0)
        c2, cols2 = _conv(r1, m2, b2, 5)
        p2 = _pool2(c2)
        r2 = np.maximum(p2, 0)
        f = r2.transpose(0, 3, 1, 2).reshape(n, -1)  # torch's NCHW flatten
        loss, g = _cross_entropy(f @ wf.T + bf, self.y)

        gwf, gbf = g.T @ f, g.sum(0)
        gf = (g @ wf).reshape(n, 20, 4, 4).transpose(0, 2, 3, 1)
        gc2 = _pool2_grad(gf * (p2 > 0), c2, p2)
        gw2 = (gc2.reshape(-1, 20).T @ cols2).reshape(w2.shape)
        gb2 = gc2.sum((0, 1, 2))
        gr1 = _conv_input_grad(gc2, m2, r1.shape, 5)
        gr1 *= p1 > 0
        gc1 = _pool2_grad(gr1, c1, p1)
        gw1 = (gc1.reshape(-1, 10).T @ cols1).reshape(w1.shape)
        gb1 = gc1.sum((0, 1, 2))
        self.grads = [gw1, gb1, gw2, gb2, gwf, gbf]
        self.opt.step(self.grads)
        return loss


class SimpleNN(Floor):
    """W4: 10000-500-10 (no activation), MSELoss, Adam(1e-4)."""

    def __init__(self, batch):
        super().__init__(_linear_shapes(10000, 500, 10))
        x, self.y = W.simplenn_data(batch)
        self.x = x.reshape(batch, -1)
        self.opt = Adam(self.params, 1e-4)

    def step(self):
        w1, b1, w2, b2 = self.params
        h = self.x @ w1.T
        h += b1
        out = h @ w2.T
        out += b2
        d = out - self.y
        loss = float(np.dot(d.ravel(), d.ravel())) / d.size
        d *= 2 / d.size
        gh = d @ w2
        self.grads = [gh.T @ self.x, gh.sum(0), d.T @ h, d.sum(0)]
        self.opt.step(self.grads)
        return loss


class LinReg(Floor):
    """W5: Linear(1, 1) on 3 samples, MSELoss(sum), SGD(0.01)."""

    def __init__(self):
        super().__init__([(1, 1), (1,)])
        self.x, self.y = W.linreg_data()
        self.opt = SGD(self.params, 0.01)

    def step(self):
        w, b = self.params
        d = self.x @ w.T + b - self.y
        loss = float((d * d).sum())
        d *= 2
        self.grads = [d.T @ self.x, d.sum(0)]
        self.opt.step(self.grads)
        return loss


class Diabetes(Floor):
    """W5: 8-6-4-1 Sigmoid, BCELoss, SGD(0.1)."""

    def __init__(self):
        super().__init__(_linear_shapes(8, 6, 4, 1))
        self.x, self.y = W.diabetes_data()
        self.opt = SGD(self.params, 0.1)

    def step(self):
        p = self.params
        acts = [self.x]
        h = self.x
        for i in range(3):
            h = h @ p[2 * i].T
            h += p[2 * i + 1]
            h = 1 / (1 + np.exp(-h))
            acts.append(h)
        y, n = self.y, len(self.y)
        loss = -float((y * np.maximum(np.log(h), -100)
                       + (1 - y) * np.maximum(np.log1p(-h), -100)).mean())
        g = (h - y) / n  # through BCE and the last sigmoid at once
        for i in (2, 1, 0):
            a = acts[i]
            self.grads[2 * i], self.grads[2 * i + 1] = g.T @ a, g.sum(0)
            if i:
                g = g @ p[2 * i]
                g *= a * (1 - a)
        self.opt.step(self.grads)
        return loss


FLOORS = {
    "W1": MLP,
    "W2": CNN,
    "W4 b4": lambda: SimpleNN(4),
    "W4 b64": lambda: SimpleNN(64),
    "W5 linreg": LinReg,
    "W5 diabetes": Diabetes,
}
