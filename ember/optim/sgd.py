"""Stochastic gradient descent, optionally with (Nesterov) momentum."""
from .optimizer import Optimizer, _blocks, _check_args, _real, _to_scalar, _zeros_like

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""torch.optim.SGD: ``b = momentum * b + (1 - dampening) * g`` (``b = g`` on
    the first step), ``p -= lr * (g + momentum * b if nesterov else b)``."""

    _legacy_defaults = dict(nesterov=False, maximize=False, foreach=None, differentiable=False,
                            fused=False)

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        _check_args(lr, momentum=momentum, weight_decay=weight_decay,
                    differentiable=differentiable, fused=fused, foreach=foreach)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
            nesterov=nesterov, maximize=maximize, foreach=foreach,
            differentiable=differentiable, fused=fused))

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            momentum, dampening = group["momentum"], group["dampening"]
            weight_decay, nesterov, maximize = (group["weight_decay"], group["nesterov"],
                                                group["maximize"])
            for p, a, g, xp, _ in self._params(group, 0):
                b = first = None
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    first = buf is None
                    if first:  # the first buffer is the gradient itself
                        buf = state["momentum_buffer"] = _zeros_like(p)
                    b = _real(buf._data)
                for a, g, b in _blocks(a, g, b):
                    t, u = self._scratch(a, 2)
                    g = self._grad(xp, a, g, maximize, weight_decay, t)
                    if b is not None:
                        if first:
                            b[...] = g
                        else:
                            b *= momentum
                            if dampening == 0:
                                b += g
                            else:
                                xp.multiply(g, 1 - dampening, out=u)
                                b += u
                        if nesterov:
                            xp.multiply(b, momentum, out=u)
                            u += g
                            g = u
                        else:
                            g = b
                    xp.multiply(g, -lr, out=u)
                    a += u
        return loss
