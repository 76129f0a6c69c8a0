"""Stochastic gradient descent, optionally with (Nesterov) momentum."""
from .optimizer import (Optimizer, _check_differentiable, _check_fused, _check_tensor_lr, _real,
                        _to_scalar, _xp, _zeros_like)

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""torch.optim.SGD: ``b = momentum * b + (1 - dampening) * g`` (``b = g`` on
    the first step), ``p -= lr * (g + momentum * b if nesterov else b)``."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        _check_tensor_lr(lr)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_differentiable(differentiable)
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            momentum, dampening = group["momentum"], group["dampening"]
            weight_decay, nesterov, maximize = (group["weight_decay"], group["nesterov"],
                                                group["maximize"])
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                a = _real(p._data)
                xp = _xp(a)
                t, u = self._scratch(a, 2)
                g = self._grad(xp, a, _real(grad._data), maximize, weight_decay, t)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = _zeros_like(p)
                        b = _real(buf._data)
                        b[...] = g
                    else:
                        b = _real(buf._data)
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
                p._bump_version()
        return loss
