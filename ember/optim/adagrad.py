"""Adagrad: per-coordinate step sizes from the sum of squared gradients."""
from .optimizer import (Optimizer, _check_differentiable, _check_fused, _check_tensor_lr, _real,
                        _step_tensor, _steps_to_tensors, _to_scalar, _xp)
from .._tensor import _wrap

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""torch.optim.Adagrad: ``s += g * g``,
    ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)``."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        _check_differentiable(differentiable)
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p):
        state = self.state[p]
        state["step"] = _step_tensor()
        v = self.defaults["initial_accumulator_value"]
        s = _xp(p._data).empty_like(p._data)
        s[...] = complex(v, v) if s.dtype.kind == "c" else v
        state["sum"] = _wrap(s)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
        _steps_to_tensors(self, "step")

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, lr_decay = _to_scalar(group["lr"]), group["lr_decay"]
            eps, weight_decay, maximize = group["eps"], group["weight_decay"], group["maximize"]
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    self._init_state(p)
                st = state["step"]._data
                st += 1
                step = float(st)
                a = _real(p._data)
                xp = _xp(a)
                t, u = self._scratch(a, 2)
                g = self._grad(xp, a, _real(grad._data), maximize, weight_decay, t)
                clr = lr / (1 + (step - 1) * lr_decay)
                s = _real(state["sum"]._data)
                xp.multiply(g, g, out=u)
                s += u
                xp.sqrt(s, out=u)
                u += eps
                xp.multiply(g, -clr, out=t)
                t /= u
                a += t
                p._bump_version()
        return loss
