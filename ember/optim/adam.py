"""Adam (and, with ``decoupled_weight_decay``, AdamW)."""
from .._tensor import Tensor
from .optimizer import (Optimizer, _adam_moments, _blocks, _check_args, _count, _real,
                        _step_tensor, _to_scalar, _zeros_like)

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""torch.optim.Adam: ``m = lerp(m, g, 1 - beta1)``,
    ``v = beta2 * v + (1 - beta2) * g * g``,
    ``p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``
    (``v`` replaced by its running maximum with ``amsgrad``)."""

    _legacy_defaults = dict(amsgrad=False, maximize=False, foreach=None, capturable=False,
                            differentiable=False, decoupled_weight_decay=False, fused=None)
    _counters = ("step",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_args(lr, eps=eps, betas=betas, weight_decay=weight_decay,
                    differentiable=differentiable, fused=fused, foreach=foreach)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas):
            if isinstance(b, Tensor) and b.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(b.squeeze() if isinstance(b, Tensor) and b.dim() else b for b in betas)
        super().__init__(params, dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable, fused=fused,
            decoupled_weight_decay=decoupled_weight_decay))

    def _init_state(self, state, p, group):
        state["step"] = _step_tensor()
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_like(p)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            beta1, beta2 = (_to_scalar(b) for b in group["betas"])
            lr, eps, weight_decay = _to_scalar(group["lr"]), group["eps"], group["weight_decay"]
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            decoupled_lr = lr if group["decoupled_weight_decay"] else None
            for p, a, g, xp, _ in self._params(group, 0):
                state = self._state(p, group)
                step = _count(state)
                m, v = _real(state["exp_avg"]._data), _real(state["exp_avg_sq"]._data)
                vmax = _real(state["max_exp_avg_sq"]._data) if amsgrad else None
                step_size = lr / (1 - beta1 ** step)
                bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
                for a, g, m, v, vmax in _blocks(a, g, m, v, vmax):
                    t, u = self._scratch(a, 2)
                    g = self._grad(xp, a, g, maximize, weight_decay, t, decoupled_lr)
                    _adam_moments(xp, m, v, g, beta1, beta2, u)
                    if amsgrad:
                        xp.maximum(vmax, v, out=vmax)
                        v = vmax
                    xp.sqrt(v, out=u)  # denom
                    u /= bias_correction2_sqrt
                    u += eps
                    xp.multiply(m, -step_size, out=t)
                    t /= u
                    a += t
        return loss
