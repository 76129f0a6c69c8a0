"""Averaged stochastic gradient descent."""
from .optimizer import Optimizer, _check_args, _count, _real, _step_tensor, _to_scalar, _zeros_like

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""torch.optim.ASGD: ``p = p * (1 - lambd * eta) - eta * g``, the average
    ``ax += mu * (p - ax)``, ``eta = lr / (1 + lambd * lr * t)^alpha``,
    ``mu = 1 / max(1, t - t0)``."""

    _legacy_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)
    _counters = ("step", "eta", "mu")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_args(lr, weight_decay=weight_decay, differentiable=differentiable)
        super().__init__(params, dict(
            lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
            maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _init_state(self, state, p, group):
        state["step"] = _step_tensor()
        state["eta"] = _step_tensor(_to_scalar(group["lr"]))
        state["mu"] = _step_tensor(1.0)
        state["ax"] = _zeros_like(p)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, lambd = _to_scalar(group["lr"]), group["lambd"]
            alpha, t0 = group["alpha"], group["t0"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p, a, g, xp, (t, u) in self._params(group, 2):
                state = self._state(p, group)
                eta, mu = state["eta"]._data, state["mu"]._data
                step = _count(state)
                g = self._grad(xp, a, g, maximize, weight_decay, t)
                eta_value = float(eta)
                a *= 1 - lambd * eta_value
                xp.multiply(g, -eta_value, out=u)
                a += u
                ax = _real(state["ax"]._data)
                mu_value = float(mu)
                if mu_value != 1:
                    xp.subtract(a, ax, out=u)
                    u *= mu_value
                    ax += u
                else:
                    ax[...] = a
                eta[...] = lr / (1 + lambd * lr * step) ** alpha
                mu[...] = 1 / max(1, step - t0)
        return loss
