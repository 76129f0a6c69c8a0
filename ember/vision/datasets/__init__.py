"""``torchvision.datasets``: MNIST family, CIFAR, image folders, fake data, and the
bundled UCI ``Digits``."""
from .cifar import CIFAR10, CIFAR100
from .digits import Digits
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .mnist import EMNIST, FashionMNIST, KMNIST, MNIST
from .vision import VisionDataset

__all__ = ("CIFAR10", "CIFAR100", "DatasetFolder", "Digits", "EMNIST", "FakeData", "FashionMNIST",
           "ImageFolder", "KMNIST", "MNIST", "VisionDataset")
