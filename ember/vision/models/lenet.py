"""LeNet-5 (LeCun et al., 1998) in its common modern form (ReLU, max pooling), with the
layer names of the PyTorch tutorial: conv1, conv2, fc1, fc2, fc3. torchvision has no LeNet.

The first convolution pads by 2, so 28x28 MNIST images enter as the 32x32 inputs of the
paper: 28 -conv5-> 28 -pool-> 14 -conv5-> 10 -pool-> 5, then 16*5*5 -> 120 -> 84 -> classes.
"""
import ember
from ember import nn
import ember.nn.functional as F

__all__ = ["LeNet", "lenet"]


class LeNet(nn.Module):
    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = ember.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def lenet(*, weights=None, progress=True, **kwargs):
    """LeNet-5 for 1x28x28 images (``in_channels``, ``num_classes`` adjustable). There are
    no pretrained weights: ``weights`` must be None."""
    if weights is not None:
        raise ValueError("lenet has no pretrained weights; train it (see `python -m ember demo`)")
    return LeNet(**kwargs)
