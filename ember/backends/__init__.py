"""``ember.backends``: flags torch code sets (accepted; the CUDA backend maps
``cuda.matmul.allow_tf32`` to CuPy's TF32 switch)."""
from types import SimpleNamespace

cudnn = SimpleNamespace(enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
                        is_available=lambda: False)
cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True))
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
mkldnn = SimpleNamespace(enabled=False, is_available=lambda: False)
openmp = SimpleNamespace(is_available=lambda: False)
