"""The legacy typed constructors: ``torch.FloatTensor([1, 2])``,
``isinstance(t, torch.LongTensor)``, ``t.type(torch.FloatTensor)``."""
from . import _backend as B


class _LegacyTensorType:
    def __init__(self, name, dtype):
        self.__name__ = name
        self.dtype = dtype

    def __call__(self, *args, device=None):
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
        return isinstance(obj, Tensor) and obj.dtype is self.dtype and obj.is_cpu

    def __repr__(self):
        return f"<class 'torch.{self.__name__}'>"


FloatTensor = _LegacyTensorType("FloatTensor", B.float32)
DoubleTensor = _LegacyTensorType("DoubleTensor", B.float64)
HalfTensor = _LegacyTensorType("HalfTensor", B.float16)
LongTensor = _LegacyTensorType("LongTensor", B.int64)
IntTensor = _LegacyTensorType("IntTensor", B.int32)
ShortTensor = _LegacyTensorType("ShortTensor", B.int16)
CharTensor = _LegacyTensorType("CharTensor", B.int8)
ByteTensor = _LegacyTensorType("ByteTensor", B.uint8)
BoolTensor = _LegacyTensorType("BoolTensor", B.bool_)
