"""The legacy typed constructors: ``torch.FloatTensor([1, 2])``,
``isinstance(t, torch.LongTensor)``, ``t.type(torch.FloatTensor)``."""
from . import _backend as B


class _LegacyTensorType:
    def __init__(self, name, dtype, cuda=False):
        self.__name__ = name
        self.dtype = dtype
        self.is_cuda = cuda

    def __call__(self, *args, device=None):
        if device is None and self.is_cuda:
            device = "cuda"
        from ._tensor import Tensor
        from ._ops import creation
        if len(args) == 1 and not isinstance(args[0], int):
            a = args[0]
            if isinstance(a, Tensor):
                return a.to(self.dtype)
            return creation.tensor(a, dtype=self.dtype, device=device)
        return creation.empty(*args, dtype=self.dtype, device=device) if args else \
            creation.empty(0, dtype=self.dtype, device=device)

    def __instancecheck__(self, obj):
        from ._tensor import Tensor
        return isinstance(obj, Tensor) and obj.dtype is self.dtype and obj.is_cuda == self.is_cuda

    def __repr__(self):
        return f"<class 'torch.{'cuda.' if self.is_cuda else ''}{self.__name__}'>"


def _types(cuda):
    return {name: _LegacyTensorType(name, dt, cuda) for name, dt in (
        ("FloatTensor", B.float32), ("DoubleTensor", B.float64), ("HalfTensor", B.float16),
        ("LongTensor", B.int64), ("IntTensor", B.int32), ("ShortTensor", B.int16),
        ("CharTensor", B.int8), ("ByteTensor", B.uint8), ("BoolTensor", B.bool_))}


CUDA_TYPES = _types(cuda=True)  # torch.cuda.FloatTensor, ...


globals().update(_types(cuda=False))
