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


@pytest.fixture(params=["cpu", "fake-cuda", pytest.param("cuda", marks=pytest.mark.gpu)])
def each_device(request):
    """A module that uses it (``pytestmark = pytest.mark.usefixtures("each_device")``)
    runs its ``check_op`` cases on the CPU, on the fake CuPy of fake_cupy.py and,
    on a GPU machine, on the GPU: ops must give the CPU's results there."""
    import contextlib

    import oracle
    if request.param != "cpu" and {"cuda", "fake_cuda", "no_cuda"} & set(request.fixturenames):
        pytest.skip("picks its own CuPy")
    fake = request.param == "fake-cuda"
    with oracle.fake_cuda_installed() if fake else contextlib.nullcontext():
        oracle.DEVICE = "cpu" if request.param == "cpu" else "cuda"
        try:
            yield oracle.DEVICE
        finally:
            oracle.DEVICE = "cpu"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def data_dir():
    if not os.path.isdir(DATA):
        pytest.skip(f"shared data folder not found at {DATA}")
    return DATA
