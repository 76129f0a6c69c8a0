"""Adagrad: per-coordinate step sizes from the sum of squared gradients."""
from .optimizer import Optimizer, _check_args, _count, _full_like, _real, _step_tensor, _to_scalar

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""torch.optim.Adagrad: ``s += g * g``,
    ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)``."""

    _legacy_defaults = dict(foreach=None, maximize=False, differentiable=False, fused=None)
    _counters = ("step",)

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_args(lr, lr_decay=lr_decay, weight_decay=weight_decay,
                    initial_accumulator_value=initial_accumulator_value, eps=eps,
                    differentiable=differentiable, fused=fused, foreach=foreach)
        super().__init__(params, dict(
            lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, foreach=foreach,
            maximize=maximize, differentiable=differentiable, fused=fused))
        for group in self.param_groups:  # torch makes the state up front
            for p in group["params"]:
                self._init_state(self.state[p], p, group)

    def _init_state(self, state, p, group):
        state["step"] = _step_tensor()
        state["sum"] = _full_like(p, self.defaults["initial_accumulator_value"])

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, lr_decay = _to_scalar(group["lr"]), group["lr_decay"]
            eps, weight_decay, maximize = group["eps"], group["weight_decay"], group["maximize"]
            for p, a, g, xp, (t, u) in self._params(group, 2):
                state = self._state(p, group)
                step = _count(state)
                g = self._grad(xp, a, g, maximize, weight_decay, t)
                clr = lr / (1 + (step - 1) * lr_decay)
                s = _real(state["sum"]._data)
                xp.multiply(g, g, out=u)
                s += u
                xp.sqrt(s, out=u)  # std
                u += eps
                xp.multiply(g, -clr, out=t)
                t /= u
                a += t
        return loss
