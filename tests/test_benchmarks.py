"""The benchmark suite (benchmarks/, issue 7) computes what it claims: ember's
and torch's workloads and the NumPy floors agree step for step; the quick run
and the memory probe work. No timing is asserted anywhere."""
import json
import os
import platform
import sys

import numpy as np
import pytest

import ember
import torch

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
sys.path.insert(0, BENCH)

import floors  # noqa: E402
import memory  # noqa: E402
import run  # noqa: E402
import workloads  # noqa: E402

# the cheap training workloads (the quick run compares every workload's losses)
TRAIN = ["W1 MLP", "W3 LeNet5x5 b16", "W5 diabetes", "W6 hello RNN"]
FLOOR_OF = {w.floor: n for n, w in workloads.WORKLOADS.items() if w.floor}


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _check_grads(a, b, what):
    """Float32 gradients agree to 1e-3 of each tensor's largest entry."""
    pa, pb = list(a), list(b)
    assert len(pa) == len(pb)
    for i, (x, y) in enumerate(zip(pa, pb)):
        x, y = _np(x), _np(y)
        assert x.shape == y.shape, (what, i)
        scale = max(float(np.abs(y).max()), 1e-12)
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-3 * scale, err_msg=f"{what} {i}")


def test_every_issue_workload_is_defined():
    names = set(workloads.WORKLOADS)
    for expected in ("W1 MLP", "W2 CNN", "W3 LeNet3x3 b16", "W3 LeNet5x5 b128", "W4 SimpleNN b4",
                     "W4 SimpleNN b64", "W5 linreg", "W5 diabetes", "W6 hello RNN",
                     "W7 ResNet-ish", "W1 MLP infer", "W2 CNN infer", "W7 ResNet-ish infer",
                     "add 1-element", "matmul 1024^2", "conv2d fwd+bwd", "max-pool fwd+bwd",
                     "cross-entropy fwd+bwd", "1000-op chain fwd+bwd", "DataLoader epoch"):
        assert expected in names
    assert set(FLOOR_OF) == set(floors.FLOORS)


@pytest.mark.parametrize("name", TRAIN)
def test_ember_step_matches_torch(name):
    """Same loss and gradients on the first step; same loss after the update."""
    w = workloads.WORKLOADS[name]
    se, st = w.build(ember), w.build(torch)
    le, lt = se(), st()
    assert float(le) == pytest.approx(float(lt), rel=1e-5, abs=1e-6)
    _check_grads((p.grad for p in se.model.parameters()),
                 (p.grad for p in st.model.parameters()), name)
    assert float(se()) == pytest.approx(float(st()), rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("name", sorted(floors.FLOORS))
def test_floor_matches_torch(name):
    """The NumPy floor's loss, gradients and updated weights are torch's."""
    f = floors.FLOORS[name]()
    st = workloads.WORKLOADS[FLOOR_OF[name]].build(torch)
    for _ in range(2):
        assert f.step() == pytest.approx(float(st()), rel=1e-5, abs=1e-6)
        _check_grads(f.grads, (p.grad for p in st.model.parameters()), name)
        # Adam moves weights by about lr whatever the gradient's size, so tiny
        # gradients may round to a different step: allow a third of one (lr 1e-4)
        for p, q in zip(f.params, st.model.parameters()):
            np.testing.assert_allclose(p, _np(q), rtol=0, atol=3e-5)


def test_quick_run(tmp_path):
    """``run.py --quick`` times every workload in ember, torch and the floors,
    their first two steps agree, and the README table renders from its JSON."""
    out = tmp_path / "bench.json"
    report = run.main(["--quick", "--json", str(out)])
    saved = json.loads(out.read_text())
    assert [r["name"] for r in saved["results"]] == list(workloads.WORKLOADS)
    assert saved["meta"]["threads"] == 2 and saved["meta"]["quick"]
    for r in report["results"]:
        assert "error" not in r, r
        for label in ("ember", "torch") + (("floor",) if r["name"] in FLOOR_OF.values() else ()):
            assert r[label]["median_s"] > 0 and r[label]["rounds"] == 2, (r["name"], label)
        assert r["ember/torch"] > 0
        for label, d in r.get("first_steps_rel_diff", {}).items():
            assert d <= 1e-4, (r["name"], label, d)
    table = run.markdown(report)
    assert table.count("\n| ") == len(report["results"]) + 1


def test_memory_probe():
    """A fresh process reports its peak resident set and the rise over import."""
    m = memory.peak_memory("W5 linreg", "ember", steps=2)
    assert "error" not in m, m
    assert m["peak_mib"] > 10 and 0 <= m["workload_mib"] < m["peak_mib"]
    assert "KeyError" in memory.peak_memory("no such workload", "ember")["error"]
    # the child's peak is its own, not the high-water mark of this (larger) parent
    big = np.ones(300 * 2**20 // 8)
    assert memory.peak_memory("W5 linreg", "ember", steps=1)["peak_mib"] < 250
    del big
    t = memory.import_time("ember", repeat=1)
    assert t is not None and t > 0


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_allocator_tuning_and_opt_out():
    """``import ember`` raises glibc's mmap/trim thresholds unless EMBER_MALLOPT=0."""
    import subprocess
    code = "import ember._allocator as a; print(a.tuned)"
    env = dict(os.environ)
    for value, expected in (("1", "True"), ("0", "False")):
        env["EMBER_MALLOPT"] = value
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()
        assert out == expected


def test_gpu_benchmark_runs_on_the_fake_cupy(tmp_path):
    """gpu.py builds every GPU workload on ``cuda`` and reports it (timing nothing real:
    the fake CuPy's kernels are NumPy's); on a GPU machine it also runs torch."""
    import gpu
    from oracle import fake_cuda_installed
    out = tmp_path / "gpu.json"
    with fake_cuda_installed():
        report = gpu.main(["--quick", "--batches", "2,3", "--no-torch", "--json", str(out)])
    names = [r["name"] for r in report["results"]]
    assert names == [f"{m} b{b}" for m in gpu.MODELS for b in (2, 3)]
    for r in report["results"]:
        assert "error" not in r and "error" not in r["ember"], r
        assert r["ember"]["median_s"] > 0
    assert json.loads(out.read_text())["meta"]["gpu"]
    assert "| W7 ResNet-ish b3 |" in gpu.markdown(report)


def test_gpu_step_matches_the_cpu_step():
    """The GPU step is the CPU workload's step: same loss on the fake device as on the CPU."""
    import gpu
    from oracle import fake_cuda_installed
    cpu = workloads.WORKLOADS["W2 CNN"].build(ember)()
    with fake_cuda_installed():
        loss = gpu.gpu_step(ember, "W2 CNN", 64)()
        assert loss.is_cuda
        assert float(loss) == pytest.approx(float(cpu), rel=1e-6)
