"""``Optimizer``: parameter groups, per-parameter state, ``state_dict`` in
torch's layout, step/state-dict hooks.

Subclasses update the parameters' arrays in place (``p._data``) with
``out=`` NumPy/CuPy calls, following torch's single-tensor algorithms
operation for operation so that float32 results agree with torch's.
"""
import functools
import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _wrap
from .._utils import typename
from ..autograd.grad_mode import enable_grad
from ..autograd.graph import RemovableHandle

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]

_global_optimizer_pre_hooks = []
_global_optimizer_post_hooks = []


class _RequiredParameter:
    """Singleton marking an option a param group must give."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def register_optimizer_step_pre_hook(hook):
    """``hook(optimizer, args, kwargs) -> None or (args, kwargs)`` before every step."""
    _global_optimizer_pre_hooks.append(hook)
    return RemovableHandle(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """``hook(optimizer, args, kwargs)`` after every step."""
    _global_optimizer_post_hooks.append(hook)
    return RemovableHandle(_global_optimizer_post_hooks, hook)


def _register(hooks, hook, prepend=False):
    hooks.insert(0, hook) if prepend else hooks.append(hook)
    return RemovableHandle(hooks, hook)


def _to_scalar(x):
    """A hyperparameter as a Python number (torch accepts 1-element tensors)."""
    return x.item() if isinstance(x, Tensor) else x


def _scalar_dtype():
    """dtype of torch's ``step`` counters: float64 only under a float64 default."""
    return np.float64 if B.get_default_dtype() is B.float64 else np.float32


def _step_tensor(value=0.0):
    """A 0-d CPU counter tensor, as torch keeps ``step`` (and ``mu_product``...)."""
    return _wrap(np.array(value, _scalar_dtype()))


def _count(state, key="step"):
    """Advance the 0-d counter ``state[key]`` by one; its new value as a float."""
    c = state[key]._data
    c[()] = float(c) + 1.0  # rounded to the counter's dtype, as torch's ``step += 1``
    return float(c)


def _real(a):
    """A complex array as its real view (torch's ``view_as_real``); others unchanged."""
    if a.dtype.kind != "c":
        return a
    return (a if a.ndim else a[None]).view(a.real.dtype)


def _zeros_like(p):
    """A state tensor of zeros laid out like parameter ``p``."""
    return _wrap(B.array_module(p._data).zeros_like(p._data))


def _full_like(p, value):
    """A state tensor filled with ``value`` (``value + value*1j`` for complex ``p``)."""
    a = B.array_module(p._data).empty_like(p._data)
    a[...] = complex(value, value) if a.dtype.kind == "c" else value
    return _wrap(a)


def _check_args(lr, *, differentiable=False, fused=None, foreach=None, **options):
    """torch's argument checks, in the order given: ``lr`` (a number or a
    1-element tensor) and the options must be >= 0, ``betas`` in [0, 1)."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    for name, value in options.items():
        if name == "betas":
            for i in (0, 1):
                if not 0.0 <= value[i] < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {value[i]}")
        elif not 0.0 <= value:
            raise ValueError(f"Invalid {'epsilon' if name == 'eps' else name} value: {value}")
    if differentiable:
        raise NotImplementedError("ember optimizers do not support differentiable=True: "
                                  "updates run on arrays, outside autograd")
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _lerp(xp, m, g, w, tmp):
    """``m.lerp_(g, w)`` in place with torch's two formulas (by ``|w| < 0.5``)."""
    xp.subtract(g, m, out=tmp)
    if abs(w) < 0.5:
        tmp *= w
        m += tmp
    else:
        tmp *= w - 1
        xp.add(g, tmp, out=m)


# An update made of several ufuncs runs block by block over parameters larger
# than this (in elements), so that each block stays in cache from one ufunc to
# the next instead of every ufunc streaming the whole array through memory.
_BLOCK = 1 << 16


def _blocks(*arrays):
    """Matching flat blocks of same-shaped arrays (``None`` passes through), or
    the arrays themselves when small, not C-contiguous or not NumPy arrays."""
    a = arrays[0]
    if a.size <= _BLOCK or type(a) is not np.ndarray or not all(
            x is None or x.flags.c_contiguous for x in arrays):
        yield arrays
        return
    flat = [None if x is None else x.reshape(-1) for x in arrays]
    for s in range(0, a.size, _BLOCK):
        yield tuple(None if f is None else f[s:s + _BLOCK] for f in flat)


def _adam_moments(xp, m, v, g, beta1, beta2, tmp):
    """torch's ``m.lerp_(g, 1 - beta1)``; ``v.mul_(beta2).addcmul_(g, g, value=1 - beta2)``."""
    _lerp(xp, m, g, 1 - beta1, tmp)
    v *= beta2
    xp.multiply(g, 1 - beta2, out=tmp)
    tmp *= g
    v += tmp


def _step_with_hooks(func):
    """``step`` wrapped to run the global and per-optimizer step hooks."""
    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        if _global_optimizer_pre_hooks or self._optimizer_step_pre_hooks:
            for pre_hook in chain(_global_optimizer_pre_hooks, self._optimizer_step_pre_hooks):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(f"{func} must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
        out = func(self, *args, **kwargs)
        if self._optimizer_step_post_hooks or _global_optimizer_post_hooks:
            for post_hook in chain(self._optimizer_step_post_hooks, _global_optimizer_post_hooks):
                post_hook(self, args, kwargs)
        return out
    wrapper.hooked = True
    return wrapper


class Optimizer:
    r"""Base class for all optimizers.

    Args:
        params (iterable): an iterable of Tensors, of ``(name, Tensor)`` pairs, or
            of dicts (parameter groups with their own options).
        defaults (dict): default values of the options, used when a group
            does not specify them.
    """

    # group options that older checkpoints may lack, with the values torch fills in
    _legacy_defaults = {}
    # per-parameter 0-d state tensors that older checkpoints kept as numbers
    _counters = ()

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._init_hooks()
        self._patch_step_function()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def _init_hooks(self):
        self._optimizer_step_pre_hooks = []
        self._optimizer_step_post_hooks = []
        self._optimizer_state_dict_pre_hooks = []
        self._optimizer_state_dict_post_hooks = []
        self._optimizer_load_state_dict_pre_hooks = []
        self._optimizer_load_state_dict_post_hooks = []
        self._bufs = {}

    def _patch_step_function(self):
        cls = self.__class__
        if not getattr(cls.step, "hooked", False):
            cls.step = _step_with_hooks(cls.step)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "_bufs" not in self.__dict__:  # unpickled: hooks are not pickled
            self._init_hooks()
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:  # options older checkpoints lack
            for k, v in self._legacy_defaults.items():
                group.setdefault(k, v)
        for s in self.state.values() if self._counters else ():
            for k in self._counters:  # older checkpoints kept counters as numbers
                if k in s and not isinstance(s[k], Tensor):
                    s[k] = _step_tensor(float(s[k]))

    def __repr__(self):
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += f"    {key}: {group[key]}\n"
        format_string += ")"
        return format_string

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook):
        return _register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        return _register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return _register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return _register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return _register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return _register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------- state dict
    def state_dict(self):
        """``{'state': {id: {...}}, 'param_groups': [{..., 'params': [ids]}]}``
        with integer ids numbering the parameters in group order."""
        for pre_hook in self._optimizer_state_dict_pre_hooks:
            pre_hook(self)
        param_mappings = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update({id(p): i for i, p in enumerate(group["params"], start_index)
                                   if id(p) not in param_mappings})
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks:
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param, value, param_id, param_groups, key=None):
        fused = capturable = False
        for pg in param_groups:
            if param_id in pg["params"]:
                fused = pg.get("fused", False)
                capturable = pg.get("capturable", False)
                break
        if key == "step":
            if capturable or fused:
                return value.to(dtype=B.float32, device=param.device)
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)

    def load_state_dict(self, state_dict):
        """Load a state produced by :meth:`state_dict` (ember's or torch's layout):
        group sizes must match; state tensors take their parameter's dtype and device."""
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks:
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def _cast(param, value, param_id=None, param_groups=None, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(
                    param, value, param_id, param_groups, key)
            if isinstance(value, dict):
                return {k: _cast(param, v, param_id=param_id, param_groups=param_groups, key=k)
                        for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(_cast(param, v, param_id=param_id, param_groups=param_groups)
                                   for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, param_id=k,
                                     param_groups=state_dict["param_groups"])
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks:
            post_hook(self)

    # ------------------------------------------------------------------- step
    def zero_grad(self, set_to_none=True):
        """Set the parameters' gradients to None (default) or to zero."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is not None:
                    if set_to_none:
                        p._grad = None
                    else:
                        if g._grad_fn is not None:
                            g.detach_()
                        else:
                            g.requires_grad_(False)
                        g._data[...] = 0
                        g._bump_version()

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the loss."""
        raise NotImplementedError

    def add_param_group(self, param_group):
        """Add a group (a dict with ``'params'`` and optional options) to
        :attr:`param_groups`."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. "
                                 "Some param names are missing")
            param_group["param_names"] = names

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + typename(param))
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        param_set = set()
        for group in self.param_groups:
            param_set.update(set(group["params"]))
            if ("param_names" in param_group) != ("param_names" in group):
                current = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {current} to the optimizer")
        if not param_set.isdisjoint(set(param_group["params"])):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------ helpers for steps
    def _closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _scratch(self, a, k):
        """``k`` work arrays shaped like ``a``, views of flat buffers kept across
        steps (one set per dtype and device), so updates allocate nothing."""
        key = (type(a), a.dtype, getattr(a, "device", None))
        n = a.size
        bufs = self._bufs.get(key)
        if bufs is None or len(bufs) < k or bufs[0].size < n:
            xp = B.array_module(a)
            size = max(n, bufs[0].size if bufs else 0)
            bufs = self._bufs[key] = [xp.empty(size, a.dtype)
                                      for _ in range(max(k, len(bufs or ())))]
        shape = a.shape
        return [b[:n].reshape(shape) for b in bufs[:k]]

    def _params(self, group, k):
        """For each parameter of ``group`` that has a gradient: ``(p, param array,
        grad array, xp, k scratch arrays)``, complex arrays as real views. The
        parameter's version is bumped once the caller has updated it."""
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            a = _real(p._data)
            yield p, a, _real(grad._data), B.array_module(a), self._scratch(a, k)
            p._bump_version()

    def _state(self, p, group):
        """``self.state[p]``, made by ``_init_state`` on first use."""
        state = self.state[p]
        if not state:
            self._init_state(state, p, group)
        return state

    @staticmethod
    def _grad(xp, a, g, maximize, weight_decay, out, decoupled_lr=None):
        """torch's ``grad = -grad if maximize``, then ``grad + weight_decay * param``
        (or, with ``decoupled_lr``, ``param *= 1 - lr * weight_decay``), written
        into ``out`` when that changes ``g``; returns the gradient array to use."""
        if weight_decay != 0:
            if decoupled_lr is None:
                xp.multiply(a, weight_decay, out=out)
                (xp.subtract if maximize else xp.add)(out, g, out=out)
                return out
            a *= 1 - decoupled_lr * weight_decay
        if maximize:
            return xp.negative(g, out=out)
        return g
