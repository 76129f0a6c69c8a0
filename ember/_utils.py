"""Small top-level helpers: type predicates, promotion queries, threads."""
from . import _backend as B


def is_tensor(obj):
    from ._tensor import Tensor
    return isinstance(obj, Tensor)


def is_storage(obj):
    return False


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError(f"Boolean value of Tensor with {'no' if input.numel() == 0 else 'more than one'} "
                           "values is ambiguous")
    return bool(input.item())


def numel(input):
    return input.numel()


def promote_types(type1, type2):
    return B.promote_types(type1, type2)


def result_type(tensor1, tensor2):
    from ._ops.common import result_dtype
    return result_dtype(tensor1, tensor2)


def can_cast(from_, to):
    """torch's rule: no cast to a lower category (float -> int, int -> bool)."""
    return from_._category <= to._category


def typename(obj):
    """torch.typename: a tensor's type string, else ``module.QualName``
    (builtins without their module)."""
    from ._tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.type()
    if hasattr(obj, "__qualname__"):
        module, qualname = getattr(obj, "__module__", "") or "", obj.__qualname__
    else:
        module, qualname = type(obj).__module__ or "", type(obj).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


_threads = [None]


def set_num_threads(n):
    """Size the BLAS thread pool (through threadpoolctl when installed)."""
    _threads[0] = int(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=int(n))


def get_num_threads():
    if _threads[0] is not None:
        return _threads[0]
    try:
        from threadpoolctl import threadpool_info
        info = threadpool_info()
        if info:
            return max(i["num_threads"] for i in info)
    except ImportError:
        pass
    import os
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def compile(model=None, **kwargs):
    """``torch.compile`` stand-in: returns the model unchanged."""
    if model is None:
        return lambda m: m
    return model
