"""``torchvision.ops`` (the parts the models use)."""
from .misc import Conv2dNormActivation

__all__ = ["Conv2dNormActivation"]
