"""The global random stream: ``manual_seed``, ``seed``, state get/set."""
from . import _backend as B

default_generator = B.default_generator


def manual_seed(seed):
    seed = int(seed)
    B.default_generator.manual_seed(seed)
    from . import cuda
    cuda.manual_seed_all(seed)
    return B.default_generator


def seed():
    """A fresh non-deterministic seed for the CPU generator, also given to
    every CUDA device (as torch)."""
    s = B.default_generator.seed()
    from . import cuda
    cuda.manual_seed_all(s)
    return s


def initial_seed():
    return B.default_generator.initial_seed()


def get_rng_state():
    return B.default_generator.get_state()


def set_rng_state(new_state):
    B.default_generator.set_state(new_state)


class fork_rng:
    """Restore the global stream's state on exit."""

    def __init__(self, devices=None, enabled=True, **kwargs):
        self.enabled = enabled

    def __enter__(self):
        if self.enabled:
            self.state = get_rng_state()

    def __exit__(self, *exc):
        if self.enabled:
            set_rng_state(self.state)
