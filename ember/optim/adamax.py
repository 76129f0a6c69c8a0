"""Adamax: Adam with the infinity norm."""
from .optimizer import (Optimizer, _check_differentiable, _check_tensor_lr, _lerp, _real,
                        _step_tensor, _steps_to_tensors, _to_scalar, _xp, _zeros_like)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""torch.optim.Adamax: ``m = lerp(m, g, 1 - beta1)``,
    ``u = max(beta2 * u, |g| + eps)``, ``p -= lr / (1 - beta1^t) * m / u``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        _check_differentiable(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _steps_to_tensors(self, "step")

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps = _to_scalar(group["lr"]), group["eps"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_inf"] = _zeros_like(p)
                st = state["step"]._data
                st += 1
                step = float(st)
                a = _real(p._data)
                xp = _xp(a)
                t, u = self._scratch(a, 2)
                g = self._grad(xp, a, _real(grad._data), maximize, weight_decay, t)
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
                p._bump_version()
        return loss
