import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
DATA = os.environ.get("EMBER_DATA", os.path.abspath(DATA))


def gpu_available():
    try:
        import ember
        return ember.cuda.is_available()
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if gpu_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def data_dir():
    if not os.path.isdir(DATA):
        pytest.skip(f"shared data folder not found at {DATA}")
    return DATA
