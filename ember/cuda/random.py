"""CUDA random state: one default generator per device, as in torch.

Random tensors created on a CUDA device draw from that device's generator
(samples are made on the host with NumPy's PCG64, then copied), so
``ember.manual_seed`` (which seeds every device) gives the same stream on
each device, independent of the CPU's. Without CUDA, seeding is ignored as
in torch; reading or setting a state raises.
"""
from .. import _backend as B


def _index(device):
    from . import _device_index
    return _device_index(device)


def _generators():
    cp = B.cupy_module()
    n = 0 if cp is None else cp.cuda.runtime.getDeviceCount()
    return [B.cuda_generator(i) for i in range(n)]


def manual_seed(seed):
    """Seed the current device's generator."""
    if B.cupy_module() is not None:
        B.cuda_generator(_index(None)).manual_seed(int(seed))


def manual_seed_all(seed):
    for g in _generators():
        g.manual_seed(int(seed))


def seed():
    """Seed the current device's generator with a random number."""
    if B.cupy_module() is not None:
        B.cuda_generator(_index(None)).seed()


def seed_all():
    gens = _generators()
    if gens:
        s = gens[0].seed()
        for g in gens[1:]:
            g.manual_seed(s)


def initial_seed():
    B.require_cupy()
    return B.cuda_generator(_index(None)).initial_seed()


def get_rng_state(device="cuda"):
    B.require_cupy()
    return B.cuda_generator(_index(device)).get_state()


def set_rng_state(new_state, device="cuda"):
    B.require_cupy()
    B.cuda_generator(_index(device)).set_state(new_state)


def get_rng_state_all():
    return [g.get_state() for g in _generators()]


def set_rng_state_all(new_states):
    for i, state in enumerate(new_states):
        set_rng_state(state, i)
