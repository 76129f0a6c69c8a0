"""RMSprop, optionally centered and with momentum."""
from .optimizer import (Optimizer, _check_args, _count, _lerp, _real, _step_tensor, _to_scalar,
                        _zeros_like)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""torch.optim.RMSprop: ``v = alpha * v + (1 - alpha) * g * g``; ``avg = sqrt(v)``
    (``sqrt(v - m * m)`` when centered, ``m = lerp(m, g, 1 - alpha)``) ``+ eps``;
    ``p -= lr * g / avg`` or, with momentum, ``b = momentum * b + g / avg; p -= lr * b``."""

    _legacy_defaults = dict(momentum=0, centered=False, foreach=None, maximize=False,
                            differentiable=False, capturable=False)
    _counters = ("step",)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_args(lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha,
                    differentiable=differentiable)
        super().__init__(params, dict(
            lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
            weight_decay=weight_decay, capturable=capturable, foreach=foreach,
            maximize=maximize, differentiable=differentiable))

    def _init_state(self, state, p, group):
        state["step"] = _step_tensor()
        state["square_avg"] = _zeros_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = _zeros_like(p)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = _to_scalar(group["lr"]), group["alpha"], group["eps"]
            weight_decay, momentum = group["weight_decay"], group["momentum"]
            centered, maximize = group["centered"], group["maximize"]
            for p, a, g, xp, (t, u, w) in self._params(group, 3):
                state = self._state(p, group)
                _count(state)
                g = self._grad(xp, a, g, maximize, weight_decay, t)
                sq = _real(state["square_avg"]._data)
                sq *= alpha
                xp.multiply(g, 1 - alpha, out=u)
                u *= g
                sq += u
                if centered:  # avg = sqrt(v - m * m)
                    ga = _real(state["grad_avg"]._data)
                    _lerp(xp, ga, g, 1 - alpha, u)
                    xp.multiply(ga, -1, out=u)
                    u *= ga
                    u += sq
                    xp.sqrt(u, out=u)
                else:
                    xp.sqrt(sq, out=u)
                u += eps
                if momentum > 0:
                    buf = _real(state["momentum_buffer"]._data)
                    buf *= momentum
                    xp.divide(g, u, out=w)
                    buf += w
                    xp.multiply(buf, -lr, out=w)
                else:
                    xp.multiply(g, -lr, out=w)
                    w /= u
                a += w
        return loss
