"""``ember.vision``: torchvision's counterpart (``import ember.vision as torchvision``):
datasets, transforms, models, image io and utilities."""
from . import datasets, io, models, transforms, utils

__version__ = "0.1.0"

_image_backend = "PIL"


def set_image_backend(backend):
    """Only ``'PIL'`` is available."""
    global _image_backend
    if backend != "PIL":
        raise ValueError(f"Invalid backend '{backend}'. Options are 'PIL'")
    _image_backend = backend


def get_image_backend():
    return _image_backend
