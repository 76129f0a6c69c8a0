"""``ember.utils.tensorboard``: TensorBoard logging with torch's
``SummaryWriter`` API (needs the extra: ``pip install "ember[tensorboard]"``)."""
from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
