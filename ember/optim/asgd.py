"""Averaged stochastic gradient descent."""
from .optimizer import (Optimizer, _check_differentiable, _check_tensor_lr, _real, _step_tensor,
                        _steps_to_tensors, _to_scalar, _xp, _zeros_like)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""torch.optim.ASGD: ``p = p * (1 - lambd * eta) - eta * g``, the average
    ``ax += mu * (p - ax)``, ``eta = lr / (1 + lambd * lr * t)^alpha``,
    ``mu = 1 / max(1, t - t0)``."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        _check_differentiable(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _steps_to_tensors(self, "step", "eta", "mu")

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = _to_scalar(group["lr"]), group["lambd"], group["alpha"], group["t0"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["eta"] = _step_tensor(lr)
                    state["mu"] = _step_tensor(1.0)
                    state["ax"] = _zeros_like(p)
                st, eta, mu = state["step"]._data, state["eta"]._data, state["mu"]._data
                a = _real(p._data)
                xp = _xp(a)
                t, u = self._scratch(a, 2)
                st += 1
                g = self._grad(xp, a, _real(grad._data), maximize, weight_decay, t)
                eta_value = float(eta)
                a *= 1 - lambd * eta_value
                xp.multiply(g, -eta_value, out=u)
                a += u
                ax = _real(state["ax"]._data)
                if float(mu) != 1:
                    xp.subtract(a, ax, out=u)
                    u *= mu
                    ax += u
                else:
                    ax[...] = a
                step = float(st)
                eta[...] = lr / (1 + lambd * lr * step) ** alpha
                mu[...] = 1 / max(1, step - t0)
                p._bump_version()
        return loss
