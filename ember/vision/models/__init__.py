"""``torchvision.models``: classification architectures with torchvision's module names,
so ``state_dict`` keys and shapes match torchvision's and its weight files load."""
from ._api import Weights, WeightsEnum, load_state_dict_from_url
from .alexnet import *  # noqa: F401,F403
from .lenet import *  # noqa: F401,F403
from .mobilenetv2 import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
