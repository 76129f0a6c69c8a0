"""``ember.utils``: data loading, checkpoints helpers, TensorBoard."""
