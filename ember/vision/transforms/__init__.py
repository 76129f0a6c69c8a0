"""``torchvision.transforms``: image transforms for PIL images and ember tensors."""
from .transforms import *  # noqa: F401,F403
from . import functional  # noqa: F401
