"""Adamax: Adam with the infinity norm."""
from .optimizer import (Optimizer, _check_args, _count, _lerp, _real, _step_tensor, _to_scalar,
                        _zeros_like)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""torch.optim.Adamax: ``m = lerp(m, g, 1 - beta1)``,
    ``u = max(beta2 * u, |g| + eps)``, ``p -= lr / (1 - beta1^t) * m / u``."""

    _legacy_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)
    _counters = ("step",)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_args(lr, eps=eps, betas=betas, weight_decay=weight_decay,
                    differentiable=differentiable)
        super().__init__(params, dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
            maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _init_state(self, state, p, group):
        state["step"] = _step_tensor()
        state["exp_avg"] = _zeros_like(p)
        state["exp_inf"] = _zeros_like(p)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps = _to_scalar(group["lr"]), group["eps"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p, a, g, xp, (t, u) in self._params(group, 2):
                state = self._state(p, group)
                step = _count(state)
                g = self._grad(xp, a, g, maximize, weight_decay, t)
                m, ei = _real(state["exp_avg"]._data), _real(state["exp_inf"]._data)
                _lerp(xp, m, g, 1 - beta1, u)
                ei *= beta2
                xp.abs(g, out=u)
                u += eps
                xp.maximum(ei, u, out=ei)
                clr = lr / (1 - beta1 ** step)
                xp.multiply(m, -clr, out=u)
                u /= ei
                a += u
        return loss
