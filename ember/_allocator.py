"""glibc allocator tuning, applied once at ``import ember``.

By default glibc serves large blocks with ``mmap`` and gives freed memory at
the top of the heap back to the OS, so a training step that allocates and
frees the same multi-megabyte arrays every time page-faults them in afresh
(zeroed by the kernel) on every step. Raising ``M_MMAP_THRESHOLD`` to its
maximum (32 MiB) keeps such arrays on the heap, and a high
``M_TRIM_THRESHOLD`` (256 MiB) keeps freed heap memory for reuse: the seed
CNN (W2) then takes 0 page faults per step instead of about 2,000, and its
step about 40 % less time (``benchmarks/``). Peak memory is unchanged; up to
256 MiB of freed memory may stay with the process instead of going back to
the OS.

The setting is process-wide. Set ``EMBER_MALLOPT=0`` in the environment
before importing ember to leave the allocator alone. Elsewhere than on glibc
nothing happens.
"""
import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 256 << 20


def tune():
    """Set the thresholds; True when glibc accepted them."""
    if os.environ.get("EMBER_MALLOPT", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


tuned = tune()
