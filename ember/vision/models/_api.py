"""Pretrained-weights plumbing: ``Weights``/``WeightsEnum`` (torchvision's API) and a
``torch.hub``-style cache (``$TORCH_HOME/hub/checkpoints``, default
``~/.cache/torch/hub/checkpoints``), shared with PyTorch: files torchvision downloaded are
reused. A missing file is fetched once; offline, a RuntimeError names the URL and the
path to place it at, instead of hanging."""
import functools
import os
import re
import urllib.error
import warnings
from dataclasses import dataclass, field
from enum import Enum

import ember
from ..datasets.utils import download_url

HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")


def _hub_dir():
    torch_home = os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(
        os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch")))
    return os.path.join(torch_home, "hub")


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False,
                             file_name=None, weights_only=True):
    """The state dict in the file at ``url``, downloaded once into the hub cache."""
    model_dir = model_dir or os.path.join(_hub_dir(), "checkpoints")
    filename = file_name or os.path.basename(url.split("?")[0])
    cached = os.path.join(model_dir, filename)
    if not os.path.exists(cached):
        try:
            download_url(url, model_dir, filename, timeout=30)
        except (urllib.error.URLError, OSError) as e:
            raise RuntimeError(f"Could not download the weights file {url} ({e}). Without network access, "
                               f"download it elsewhere and place it at {cached}.") from None
    if check_hash:
        import hashlib
        prefix = HASH_REGEX.search(filename)
        if prefix is not None:
            with open(cached, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            if not digest.startswith(prefix.group(1)):
                raise RuntimeError(f'invalid hash value (expected "{prefix.group(1)}", got "{digest}") '
                                   f"for {cached}")
    return ember.load(cached, map_location=map_location, weights_only=weights_only)


@dataclass
class Weights:
    """A weights file: its ``url``, the preprocessing it expects, and metadata."""
    url: str
    transforms: object
    meta: dict = field(default_factory=dict)


class WeightsEnum(Enum):
    """The weights available for one architecture; ``DEFAULT`` is the best."""

    @classmethod
    def verify(cls, obj):
        if obj is not None:
            if type(obj) is str:
                obj = cls[obj.replace(cls.__name__ + ".", "")]
            elif not isinstance(obj, cls):
                raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received "
                                f"{obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args, **kwargs):
        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


def _ovewrite_named_param(kwargs, param, new_value):
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} "
                             f"but got {kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def _build(make, weights, progress, kwargs):
    """``make(**kwargs)``, loaded with ``weights`` if given. The file is fetched first, so
    that being offline fails at once rather than after a long initialisation."""
    if weights is None:
        return make(**kwargs)
    _ovewrite_named_param(kwargs, "num_classes", weights.meta["num_classes"])
    state_dict = weights.get_state_dict(progress=progress, check_hash=True)
    model = make(**kwargs)
    model.load_state_dict(state_dict)
    return model


def handle_legacy_interface(weights_enum, default="IMAGENET1K_V1"):
    """Accept the old ``pretrained=True/False`` (with torchvision's deprecation warning)."""
    def decorator(builder):
        @functools.wraps(builder)
        def wrapper(*args, **kwargs):
            if args:  # pretrained passed positionally
                kwargs["pretrained"], args = args[0], args[1:]
            if "pretrained" in kwargs:
                pretrained = kwargs.pop("pretrained")
                weights = weights_enum[default] if pretrained else None
                warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed in the "
                              "future, please use 'weights' instead.")
                if pretrained:
                    warnings.warn("Arguments other than a weight enum or `None` for 'weights' are "
                                  "deprecated since 0.13 and may be removed in the future. The current "
                                  f"behavior is equivalent to passing `weights={weights!r}`. You can also "
                                  f"use `weights={weights_enum.__name__}.DEFAULT` to get the most up-to-date "
                                  "weights.")
                kwargs["weights"] = weights
            return builder(*args, **kwargs)
        return wrapper
    return decorator


def _imagenet_meta(**extra):
    return {"num_classes": 1000, "min_size": (1, 1), **extra}
