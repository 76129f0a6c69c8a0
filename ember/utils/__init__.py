"""``ember.utils``: data loading, checkpoints helpers, TensorBoard."""
from . import data  # noqa: E402,F401
