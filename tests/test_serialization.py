"""ember.save / ember.load against real torch.save / torch.load: both
directions, every dtype, views and shared storages, state_dicts, optimizer
states, safety of weights-only loads, corrupt files, atomic saves."""
import collections
import io
import os
import pathlib
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from ember import serialization
from oracle import DTYPES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _sample(dtype, shape=(2, 3), seed=0):
    """Deterministic data of an ember dtype as a NumPy array."""
    r = np.random.default_rng(seed)
    npd = dtype.np
    if npd == np.bool_:
        return r.integers(0, 2, shape).astype(bool)
    if npd.kind in "iu":
        info = np.iinfo(npd)
        return r.integers(max(info.min, -1000), min(info.max, 1000), shape, dtype=npd)
    if npd.kind == "c":
        return (r.standard_normal(shape) + 1j * r.standard_normal(shape)).astype(npd)
    return r.standard_normal(shape).astype(npd)


def _same(e, t):
    """ember tensor ``e`` and torch tensor ``t`` agree in dtype, shape,
    strides and values."""
    assert isinstance(e, ember.Tensor) and isinstance(t, torch.Tensor)
    assert str(e.dtype) == str(t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    if t.numel() > 1:
        assert e.stride() == t.stride(), (e.stride(), t.stride())
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def _to_ember_file(t_obj, path):
    torch.save(t_obj, path)
    return ember.load(path)


def _to_torch_file(e_obj, path):
    ember.save(e_obj, path)
    return torch.load(path, weights_only=True)


def _rewrite_zip(src, dst, edit):
    """Copy a checkpoint's records through ``edit(name, data) -> data`` (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)


# ---------------------------------------------------------------------------
# dtypes, shapes, strides


@pytest.mark.parametrize("dtype", list(DTYPES), ids=str)
def test_every_dtype_ember_to_torch(tmp_path, dtype):
    a = _sample(dtype)
    obj = {"x": ember.tensor(a), "t": ember.tensor(a).t(), "scalar": ember.tensor(a[0, 0])}
    out = _to_torch_file(obj, tmp_path / "e.pt")
    assert out["x"].dtype == DTYPES[dtype]
    np.testing.assert_array_equal(out["x"].numpy(), a)
    np.testing.assert_array_equal(out["t"].numpy(), a.T)
    assert out["t"].stride() == (1, 3)
    assert out["scalar"].shape == () and out["scalar"].item() == a[0, 0].item()


@pytest.mark.parametrize("dtype", list(DTYPES), ids=str)
def test_every_dtype_torch_to_ember(tmp_path, dtype):
    a = _sample(dtype, (3, 4), seed=1)
    t = torch.from_numpy(a.copy())
    obj = {"x": t, "s": t[:, 1::2], "scalar": t[1, 1].clone()}
    out = _to_ember_file(obj, tmp_path / "t.pt")
    for k in obj:
        _same(out[k], obj[k])


def test_zero_dim_empty_and_strided_views_both_ways(tmp_path):
    x = ember.arange(24.).reshape(2, 3, 4)
    obj = {"0d": ember.tensor(7), "empty": ember.zeros(0, 3), "empty2": x[:, 3:],
           "perm": x.permute(2, 0, 1), "step": x[:, ::2, 1::3],
           "expand": ember.arange(3.).expand(4, 3), "narrow": x.narrow(2, 1, 2), "row": x[1, 2]}
    back = _to_torch_file(obj, tmp_path / "e.pt")
    for k, v in obj.items():
        _same(v, back[k])
    assert back["expand"].stride() == (0, 1)
    assert back["row"].storage_offset() == 20
    # and back into ember from the file torch writes
    again = _to_ember_file(back, tmp_path / "t.pt")
    for k, v in back.items():
        _same(again[k], v)
    assert again["row"].storage_offset() == 20


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       steps=st.lists(st.integers(1, 3), min_size=3, max_size=3),
       transpose=st.booleans())
def test_strided_views_hypothesis(tmp_path_factory, shape, steps, transpose):
    path = tmp_path_factory.mktemp("h") / "v.pt"
    base = ember.arange(float(np.prod(shape))).reshape(*shape)
    view = base[tuple(slice(None, None, s) for s in steps[:len(shape)])]
    if transpose and view.dim() > 1:
        view = view.transpose(0, -1)
    out = _to_torch_file({"base": base, "view": view}, path)
    _same(view, out["view"])
    assert out["view"].untyped_storage().data_ptr() == out["base"].untyped_storage().data_ptr()


def test_non_native_memory_gets_its_own_storage(tmp_path):
    # a negative-stride NumPy view (torch has none) and a float view of complex memory
    a = np.arange(6, dtype=np.float32)
    flipped = ember.from_numpy(a[::-1])
    c = ember.tensor([1 + 2j, 3 + 4j])
    out = _to_torch_file({"f": flipped, "c": c, "re": c.real, "im": c.imag}, tmp_path / "e.pt")
    np.testing.assert_array_equal(out["f"].numpy(), a[::-1])
    np.testing.assert_array_equal(out["re"].numpy(), [1, 3])
    np.testing.assert_array_equal(out["im"].numpy(), [2, 4])
    np.testing.assert_array_equal(out["c"].numpy(), [1 + 2j, 3 + 4j])


def test_requires_grad_flag_round_trips(tmp_path):
    w = ember.ones(2, 2, requires_grad=True)
    out = _to_torch_file({"w": w, "n": ember.ones(2)}, tmp_path / "e.pt")
    assert out["w"].requires_grad and not out["n"].requires_grad
    back = _to_ember_file(out, tmp_path / "t.pt")
    assert back["w"].requires_grad and back["w"].is_leaf and not back["n"].requires_grad


# ---------------------------------------------------------------------------
# shared storage


def _storages_in(path):
    with zipfile.ZipFile(path) as z:
        return [n for n in z.namelist() if "/data/" in n]


def test_views_share_one_storage_written_once(tmp_path):
    x = ember.arange(10.)
    obj = {"x": x, "mid": x[2:6], "again": x, "resh": x.view(2, 5)}
    path = tmp_path / "e.pt"
    ember.save(obj, path)
    assert len(_storages_in(path)) == 1
    t = torch.load(path, weights_only=True)
    assert t["x"] is t["again"]
    ptrs = {t[k].untyped_storage().data_ptr() for k in ("x", "mid", "resh")}
    assert len(ptrs) == 1
    assert t["mid"].storage_offset() == 2
    t["x"][3] = -1
    assert t["mid"][1] == -1 and t["resh"][0, 3] == -1
    e = ember.load(path)
    assert e["x"] is e["again"]
    e["x"][3] = -5.0
    assert e["mid"][1].item() == -5.0 and e["resh"][0, 3].item() == -5.0
    assert e["mid"].storage_offset() == 2


def test_torch_shared_storage_is_shared_in_ember(tmp_path):
    base = torch.arange(12.)
    obj = {"a": base.view(3, 4), "col": base.view(3, 4)[:, 1], "tail": base[6:]}
    e = _to_ember_file(obj, tmp_path / "t.pt")
    for k in obj:
        _same(e[k], obj[k])
    e["a"][1, 1] = 100.0
    assert e["col"][1].item() == 100.0
    e["tail"][0] = 42.0
    assert e["a"][1, 2].item() == 42.0
    # saving the loaded views again keeps one storage
    path = tmp_path / "again.pt"
    ember.save(e, path)
    assert len(_storages_in(path)) == 1
    t = torch.load(path)
    assert t["col"].storage_offset() == 1 and t["col"][1].item() == 100.0


# ---------------------------------------------------------------------------
# containers, state dicts, optimizer state


def test_containers_numbers_strings(tmp_path):
    obj = {"list": [1, 2.5, None, "x", True], "tuple": (1, (2, 3)), "set": {1, 2},
           "bytes": b"\x00ab", "nested": {"a": {"b": [ember.ones(2)]}}, 3: "int key",
           "np": np.float32(1.5), "npi": np.int64(7), "big": 2 ** 70, "cx": 1 + 2j,
           "dtype": ember.float16, "device": ember.device("cpu"), "size": ember.Size([2, 3])}
    t = _to_torch_file(obj, tmp_path / "e.pt")
    assert t["list"] == [1, 2.5, None, "x", True] and t["tuple"] == (1, (2, 3))
    assert t["set"] == {1, 2} and t["bytes"] == b"\x00ab" and t[3] == "int key"
    assert t["np"] == 1.5 and type(t["np"]) is float and t["npi"] == 7 and t["big"] == 2 ** 70
    assert t["cx"] == 1 + 2j
    assert t["dtype"] is torch.float16 and t["device"] == torch.device("cpu")
    assert t["size"] == torch.Size([2, 3]) and isinstance(t["size"], torch.Size)
    torch.testing.assert_close(t["nested"]["a"]["b"][0], torch.ones(2))
    e = _to_ember_file(t, tmp_path / "t.pt")
    assert e["dtype"] is ember.float16 and e["device"] == ember.device("cpu")
    assert isinstance(e["size"], ember.Size) and e["size"] == (2, 3)
    assert e["set"] == {1, 2} and e["bytes"] == b"\x00ab"


def test_torch_state_dict_round_trip(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(8, 3))
    model(torch.randn(2, 1, 4, 4))
    sd = model.state_dict()
    e = _to_ember_file(sd, tmp_path / "t.pt")
    assert type(e) is collections.OrderedDict and list(e) == list(sd)
    assert e._metadata == sd._metadata
    for k in sd:
        _same(e[k], sd[k])
    assert e["1.num_batches_tracked"].dtype is ember.int64 and e["1.num_batches_tracked"].dim() == 0
    # ember writes it back: torch loads it into a fresh model
    back = _to_torch_file(e, tmp_path / "e.pt")
    assert back._metadata == sd._metadata
    fresh = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(8, 3))
    fresh.load_state_dict(back)
    for k, v in fresh.state_dict().items():
        torch.testing.assert_close(v, sd[k], rtol=0, atol=0)


def _torch_adam():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(2):
        opt.zero_grad()
        model(torch.randn(5, 3)).pow(2).mean().backward()
        opt.step()
    return model, opt


def _assert_same_structure(e, t):
    if isinstance(t, torch.Tensor):
        if isinstance(e, torch.Tensor):
            assert e.dtype == t.dtype and torch.equal(e, t)
        else:
            _same(e, t)
    elif isinstance(t, dict):
        assert type(e) is type(t) and list(e) == list(t)
        for k in t:
            _assert_same_structure(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t)
        for a, b in zip(e, t):
            _assert_same_structure(a, b)
    else:
        assert e == t and type(e) is type(t)


def test_torch_adam_state_dict_loads_with_same_structure(tmp_path):
    model, opt = _torch_adam()
    sd = opt.state_dict()
    e = _to_ember_file(sd, tmp_path / "opt.pt")
    _assert_same_structure(e, sd)
    assert sorted(e["state"]) == [0, 1, 2, 3]
    # and ember's file of it is accepted by torch's optimizer
    back = _to_torch_file(e, tmp_path / "opt2.pt")
    _, opt2 = _torch_adam()
    opt2.load_state_dict(back)
    _assert_same_structure(opt2.state_dict(), sd)


def test_checkpoint_dict_with_epoch(tmp_path):
    model, opt = _torch_adam()
    ckpt = {"epoch": 5, "model": model.state_dict(), "optimizer": opt.state_dict(),
            "loss": 0.25, "history": [0.9, 0.5, 0.25]}
    e = _to_ember_file(ckpt, tmp_path / "ckpt.pth")
    assert e["epoch"] == 5 and e["loss"] == 0.25 and e["history"] == [0.9, 0.5, 0.25]
    _assert_same_structure(e["model"], ckpt["model"])


# ---------------------------------------------------------------------------
# parameters and modules (need ember.nn)

def _nn():
    if not hasattr(ember.nn, "Parameter") or not hasattr(ember.nn, "Linear"):
        pytest.skip("ember.nn (Parameter, Linear) is not built yet")
    return ember.nn


def test_parameters_both_ways(tmp_path):
    nn = _nn()
    p = nn.Parameter(ember.arange(6.).reshape(2, 3))
    frozen = nn.Parameter(ember.ones(2), requires_grad=False)
    t = _to_torch_file({"p": p, "f": frozen, "view": p}, tmp_path / "e.pt")
    assert type(t["p"]) is torch.nn.Parameter and t["p"].requires_grad
    assert type(t["f"]) is torch.nn.Parameter and not t["f"].requires_grad
    assert t["view"] is t["p"]
    np.testing.assert_array_equal(t["p"].detach().numpy(), np.arange(6.).reshape(2, 3))
    e = _to_ember_file({"p": torch.nn.Parameter(torch.ones(3))}, tmp_path / "t.pt")
    assert type(e["p"]) is nn.Parameter and e["p"].requires_grad


def test_ember_adam_state_dict_continues_in_torch(tmp_path):
    nn = _nn()
    if not hasattr(ember.optim, "Adam"):
        pytest.skip("ember.optim.Adam is not built yet")
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(2):
        opt.zero_grad()
        model(ember.randn(5, 3)).pow(2).mean().backward()
        opt.step()
    t = _to_torch_file({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "e.pt")
    _assert_same_structure(opt.state_dict(), t["opt"])
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    tmodel.load_state_dict(t["model"])
    topt = torch.optim.Adam(tmodel.parameters(), lr=1e-2)
    topt.load_state_dict(t["opt"])
    # one more step in both frameworks on the same batch lands on the same weights
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    for m, o, lib in ((model, opt, ember), (tmodel, topt, torch)):
        o.zero_grad()
        m(lib.tensor(x)).pow(2).mean().backward()
        o.step()
    for (k, v), tv in zip(model.state_dict().items(), tmodel.state_dict().values()):
        np.testing.assert_allclose(v.numpy(), tv.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


def test_torch_whole_model_needs_weights_only_false(tmp_path):
    path = tmp_path / "model.pth"
    torch.save(torch.nn.Linear(3, 2), path)
    with pytest.raises(pickle.UnpicklingError, match="(?s)Weights only load failed.*weights_only"
                       ".*False.*GLOBAL torch.nn.modules.linear.Linear"):
        ember.load(path)
    nn = _nn()
    m = ember.load(path, weights_only=False)
    assert isinstance(m, nn.Linear)
    ref = torch.load(path, weights_only=False)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(m(ember.tensor(x)).detach().numpy(),
                               ref(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6)
    with serialization.safe_globals([nn.Linear]):
        assert isinstance(ember.load(path), nn.Linear)


def test_whole_ember_model_round_trip(tmp_path):
    nn = _nn()
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    path = tmp_path / "model.pth"
    ember.save(model, path)
    with pytest.raises(pickle.UnpicklingError, match="weights_only"):
        ember.load(path)
    loaded = ember.load(path, weights_only=False)
    x = ember.randn(5, 3)
    assert ember.equal(loaded(x), model(x))
    # the module's tensors went through storages: torch can read them as weights
    with zipfile.ZipFile(path) as z:
        assert any("/data/" in n for n in z.namelist())


# ---------------------------------------------------------------------------
# safety

class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"echo pwned > {self.marker}",)


def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    raw = tmp_path / "evil.pkl"
    raw.write_bytes(pickle.dumps(_Evil(marker), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="(?s)Weights only load failed.*system"):
        ember.load(raw)
    # the same payload as data.pkl inside a real checkpoint
    good = tmp_path / "good.pt"
    ember.save({"x": ember.ones(2)}, good)
    bad = tmp_path / "bad.pt"
    _rewrite_zip(good, bad, lambda n, d: pickle.dumps({"x": _Evil(marker)}, protocol=2)
                 if n.endswith("data.pkl") else d)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL posix.system"):
        ember.load(bad)
    for proto in (0, 4, 5):
        with pytest.raises(pickle.UnpicklingError):
            ember.load(io.BytesIO(pickle.dumps(_Evil(marker), protocol=proto)))
    assert not marker.exists()


@pytest.mark.parametrize("payload", [
    b"cbuiltins\neval\n(S'1+1'\ntR.",                      # GLOBAL + REDUCE
    b"(cos\nsystem\nS'true'\no.",                          # OBJ opcode
    b"(S'true'\nios\nsystem\n.",                           # INST opcode
    b"\x80\x02ccollections\nOrderedDict\n)RN}X\x01\x00\x00\x00aK\x01s\x86b.",  # slot state
    b"\x80\x02c__builtin__\nset\n)R}X\x01\x00\x00\x00aK\x01sb.",             # BUILD on a set
])
def test_forbidden_pickle_constructs(payload):
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(payload))


class Point:
    """A user type a checkpoint may hold (allowlisted explicitly)."""

    def __init__(self, x=0):
        self.x = x


def test_safe_globals_allowlist(tmp_path):
    path = tmp_path / "p.pt"
    ember.save({"p": Point(3), "t": ember.ones(1)}, path)
    with pytest.raises(pickle.UnpicklingError, match="add_safe_globals"):
        ember.load(path)
    with serialization.safe_globals([Point]):
        assert ember.load(path)["p"].x == 3
    assert Point not in serialization.get_safe_globals()
    assert ember.load(path, weights_only=False)["p"].x == 3
    serialization.add_safe_globals([Point])
    try:
        assert ember.load(path)["p"].x == 3
    finally:
        serialization.clear_safe_globals()


def test_rng_state_in_a_checkpoint(tmp_path):
    ember.manual_seed(3)
    ember.rand(2)
    path = tmp_path / "rng.pt"
    ember.save({"rng_state": ember.get_rng_state()}, path)
    expected = ember.rand(4)
    ember.set_rng_state(ember.load(path)["rng_state"])
    assert ember.equal(ember.rand(4), expected)
    # a state is plain bytes: a pickle disguised as one is refused, not run
    marker = tmp_path / "pwned"
    evil = ember.tensor(list(pickle.dumps(_Evil(marker))), dtype=ember.uint8)
    with pytest.raises(RuntimeError, match="generator state"):
        ember.set_rng_state(evil)
    assert not marker.exists()


def test_weights_only_with_pickle_module_is_an_error(tmp_path):
    path = tmp_path / "e.pt"
    ember.save(ember.ones(1), path)
    with pytest.raises(RuntimeError, match="pickle_module"):
        ember.load(path, pickle_module=pickle, weights_only=True)
    assert ember.load(path, pickle_module=pickle).tolist() == [1.0]  # implies weights_only=False


# ---------------------------------------------------------------------------
# corrupt, truncated, foreign files


@pytest.fixture
def ckpt(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.arange(100.), "b": ember.ones(3)}, path)
    return path


def test_truncated_file(ckpt, tmp_path):
    data = ckpt.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 100):
        bad = tmp_path / "trunc.pt"
        bad.write_bytes(data[:cut])
        with pytest.raises(RuntimeError, match="(?s)failed finding central directory.*trunc.pt"):
            ember.load(bad)
        with pytest.raises(RuntimeError):  # torch agrees the file is broken
            torch.load(bad)


def test_corrupted_storage_bytes(ckpt, tmp_path):
    bad = tmp_path / "bad.pt"
    data = bytearray(ckpt.read_bytes())
    i = data.index(np.arange(100, dtype=np.float32)[50:52].tobytes())
    data[i] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="(?s)CRC.*bad.pt"):
        ember.load(bad)


def test_missing_records(ckpt, tmp_path):
    bad = tmp_path / "nodata.pt"
    _rewrite_zip(ckpt, bad, lambda n, d: None if n.endswith("data/0") else d)
    with pytest.raises(RuntimeError, match="(?s)ckpt/data/0.*not found.*nodata.pt"):
        ember.load(bad)
    nover = tmp_path / "nover.pt"
    _rewrite_zip(ckpt, nover, lambda n, d: None if n.endswith("/version") else d)
    with pytest.raises(RuntimeError, match="version"):
        ember.load(nover)
    short = tmp_path / "short.pt"
    _rewrite_zip(ckpt, short, lambda n, d: d[:-4] if n.endswith("data/0") else d)
    with pytest.raises(RuntimeError, match="data/0 holds 396 bytes"):
        ember.load(short)


def test_not_a_checkpoint(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello world, not a checkpoint")
    with pytest.raises(pickle.UnpicklingError, match="notes.txt is not a PyTorch checkpoint"):
        ember.load(text)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(EOFError, match="empty.pt"):
        ember.load(empty)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(RuntimeError, match="not found in .*other.zip"):
        ember.load(other_zip)
    with pytest.raises(FileNotFoundError):
        ember.load(tmp_path / "missing.pt")
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(RuntimeError, match="magic number"):
        ember.load(plain)


def test_torchscript_archive_is_refused(tmp_path):
    path = tmp_path / "script.pt"
    torch.jit.script(torch.nn.Linear(2, 2)).save(str(path))
    with pytest.raises(RuntimeError, match="TorchScript"):
        ember.load(path)


# ---------------------------------------------------------------------------
# atomic saves

class _Exploding:
    def __reduce__(self):
        raise ValueError("cannot pickle this")


def test_failing_save_keeps_old_checkpoint(ckpt):
    before = ckpt.read_bytes()
    big = ember.zeros(1000)
    with pytest.raises(ValueError, match="cannot pickle"):
        ember.save({"a": big, "boom": _Exploding(), "z": big}, ckpt)
    assert ckpt.read_bytes() == before
    assert ember.load(ckpt)["w"].tolist() == list(np.arange(100.))
    assert os.listdir(ckpt.parent) == [ckpt.name]  # no temporary file left behind


def _child(script):
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)


def test_killed_save_keeps_old_checkpoint(ckpt):
    """A save killed right before its final rename: the target is untouched."""
    child = _child(f"""
        import os, time, ember
        real = os.replace
        def stall(src, dst):
            print("written", flush=True)
            time.sleep(60)
        os.replace = stall
        ember.save({{"w": ember.zeros(100)}}, {str(ckpt)!r})
    """)
    try:
        assert child.stdout.readline().strip() == "written"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert ember.load(ckpt)["w"].tolist() == list(np.arange(100.))


def test_save_killed_at_a_random_moment_leaves_a_complete_file(ckpt):
    """Killed while writing a large tensor: the file is the old or the new
    checkpoint, complete either way."""
    child = _child(f"""
        import ember
        x = ember.ones(40_000_000)
        print("saving", flush=True)
        ember.save({{"w": x}}, {str(ckpt)!r})
    """)
    try:
        assert child.stdout.readline().strip() == "saving"
        time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    w = ember.load(ckpt)["w"]
    assert w.shape in ((100,), (40_000_000,))
    if w.shape == (100,):
        assert w.tolist() == list(np.arange(100.))


def test_save_follows_symlinks_and_keeps_mode(tmp_path, ckpt):
    os.chmod(ckpt, 0o640)
    link = tmp_path / "latest.pt"
    link.symlink_to(ckpt)
    ember.save({"w": ember.zeros(2)}, link)
    assert link.is_symlink() and ember.load(ckpt)["w"].tolist() == [0.0, 0.0]
    assert os.stat(ckpt).st_mode & 0o777 == 0o640


def test_save_into_missing_folder(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory"):
        ember.save(ember.ones(1), tmp_path / "nope" / "x.pt")
    with pytest.raises(AttributeError, match="file-like"):
        ember.save(ember.ones(1), 123)


# ---------------------------------------------------------------------------
# file objects, paths, map_location


def test_bytesio_pathlib_and_str_paths(tmp_path):
    x = ember.arange(5.)
    buf = io.BytesIO()
    ember.save(x, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        assert z.namelist()[0].startswith("archive/")
    buf.seek(0)
    assert torch.load(buf).tolist() == x.tolist()
    tbuf = io.BytesIO()
    torch.save(torch.arange(3), tbuf)
    tbuf.seek(0)
    assert ember.load(tbuf).tolist() == [0, 1, 2]
    for p in (tmp_path / "p.pt", str(tmp_path / "s.pt")):
        ember.save(x, p)
        assert ember.load(p).tolist() == x.tolist()
        assert torch.load(p).tolist() == x.tolist()
    with zipfile.ZipFile(tmp_path / "p.pt") as z:
        assert z.namelist()[0].startswith("p/")   # the file's stem, as torch names it
    with open(tmp_path / "f.pt", "wb") as f:
        ember.save(x, f)
    with open(tmp_path / "f.pt", "rb") as f:
        assert ember.load(f).tolist() == x.tolist()


class _Stream:
    """A read-only, non-seekable stream (a pipe or a socket)."""

    def __init__(self, data):
        self._b = io.BytesIO(data)

    def read(self, n=-1):
        return self._b.read(n)


def test_non_seekable_stream(ckpt):
    assert ember.load(_Stream(ckpt.read_bytes()))["b"].tolist() == [1.0, 1.0, 1.0]


def test_records_are_64_byte_aligned(ckpt):
    with open(ckpt, "rb") as f, zipfile.ZipFile(ckpt) as z:
        for info in z.infolist():
            f.seek(info.header_offset)
            n, m = struct.unpack("<HH", f.read(30)[26:30])
            assert (info.header_offset + 30 + n + m) % 64 == 0, info.filename


def test_mmap(ckpt, tmp_path):
    out = ember.load(ckpt, mmap=True)
    assert out["w"].tolist() == list(np.arange(100.))
    out["w"][0] = 9.0   # copy-on-write: the file is unchanged
    assert ember.load(ckpt)["w"][0].item() == 0.0
    assert torch.load(ckpt, mmap=True)["w"][5].item() == 5.0
    with pytest.raises(ValueError, match="file path"):
        ember.load(io.BytesIO(ckpt.read_bytes()), mmap=True)


@pytest.fixture
def cuda_ckpt(tmp_path):
    """A checkpoint whose storages are tagged 'cuda:0' (as saved on a GPU)."""
    src = tmp_path / "cpu.pt"
    x = ember.arange(4.)
    ember.save({"w": x, "v": x[1:]}, src)
    dst = tmp_path / "gpu.pt"

    def edit(name, data):
        if name.endswith("data.pkl"):
            old, new = b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0"
            assert old in data
            return data.replace(old, new)
        return data
    _rewrite_zip(src, dst, edit)
    return dst


def test_cuda_checkpoint_with_map_location(cuda_ckpt):
    # torch itself reads the file as saved on cuda:0
    assert torch.load(cuda_ckpt, map_location="cpu")["w"].tolist() == [0, 1, 2, 3]
    seen = []

    def keep_on_cpu(storage, location):
        seen.append(location)
        return storage

    for ml in ("cpu", ember.device("cpu"), {"cuda:0": "cpu"}, keep_on_cpu,
               lambda s, loc: None if loc == "cpu" else s.cpu()):
        out = ember.load(cuda_ckpt, map_location=ml)
        assert out["w"].device == ember.device("cpu") and out["w"].tolist() == [0, 1, 2, 3]
        out["w"][2] = 7.0
        assert out["v"][1].item() == 7.0     # still one shared storage
    assert seen == ["cuda:0"]


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the CPU-only error")
def test_cuda_checkpoint_without_map_location_on_cpu_machine(cuda_ckpt):
    with pytest.raises(RuntimeError, match=r"Attempting to deserialize object on a CUDA device "
                       r"but torch.cuda.is_available\(\) is False"):
        ember.load(cuda_ckpt)
    with pytest.raises(RuntimeError, match="CUDA"):
        ember.load(cuda_ckpt, map_location={"cuda:1": "cpu"})
    with pytest.raises(RuntimeError, match="CUDA"):   # same message from torch
        torch.load(cuda_ckpt)


@pytest.mark.gpu
def test_cuda_round_trip(tmp_path):
    x = ember.arange(6.).cuda()
    path = tmp_path / "g.pt"
    ember.save({"x": x, "v": x[2:]}, path)
    assert torch.load(path, map_location="cpu")["v"].tolist() == [2, 3, 4, 5]
    out = ember.load(path)
    assert out["x"].is_cuda and out["v"].cpu().tolist() == [2, 3, 4, 5]
    assert ember.load(path, map_location="cpu")["x"].device == ember.device("cpu")


def test_bad_map_location(ckpt):
    with pytest.raises(ValueError, match="map_location"):
        ember.load(ckpt, map_location=3.5)
    with pytest.raises(RuntimeError, match="restore data location"):
        ember.load(ckpt, map_location="mps")


# ---------------------------------------------------------------------------
# dtypes ember lacks, byte order, legacy format


def test_bfloat16_loads_as_float32_with_a_warning(tmp_path):
    t = torch.tensor([1.5, -2.25, 3.0e38, 1e-3]).to(torch.bfloat16)
    with pytest.warns(UserWarning, match="bfloat16"):
        e = _to_ember_file({"x": t, "view": t[1:]}, tmp_path / "bf.pt")
    assert e["x"].dtype is ember.float32
    np.testing.assert_array_equal(e["x"].numpy(), t.float().numpy())
    e["x"][1] = 0.0
    assert e["view"][0].item() == 0.0


def test_dtype_ember_lacks_is_a_clear_error(tmp_path):
    path = tmp_path / "u16.pt"
    torch.save(torch.tensor([1, 2, 3], dtype=torch.uint16), path)
    with pytest.raises(RuntimeError, match="torch.uint16"):
        ember.load(path)


def test_big_endian_checkpoint(ckpt, tmp_path):
    big = tmp_path / "big.pt"

    def edit(name, data):
        if name.endswith("byteorder"):
            return b"big"
        if "/data/" in name:
            return np.frombuffer(data, np.float32).byteswap().tobytes()
        return data
    _rewrite_zip(ckpt, big, edit)
    assert ember.load(big)["w"].tolist() == list(np.arange(100.))
    assert torch.load(big)["w"].tolist() == list(np.arange(100.))


def test_legacy_format_from_torch(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    base = torch.arange(10.)
    obj = {"sd": model.state_dict(), "base": base, "view": base[3:7], "half": base.half(),
           "bf": base.bfloat16(), "n": 3}
    path = tmp_path / "legacy.pt"
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    with pytest.warns(UserWarning, match="bfloat16"):
        e = ember.load(path)
    for k, v in obj["sd"].items():
        _same(e["sd"][k], v)
    assert e["sd"]._metadata == obj["sd"]._metadata
    _same(e["view"], obj["view"])
    _same(e["half"], obj["half"])
    assert e["bf"].tolist() == base.tolist() and e["n"] == 3
    e["base"][4] = -1.0
    assert e["view"][1].item() == -1.0
    with pytest.raises(RuntimeError, match="mmap can only be used"):
        ember.load(path, mmap=True)
    seen = []
    with pytest.warns(UserWarning, match="bfloat16"):
        ember.load(path, map_location=lambda s, loc: seen.append(loc))
    assert seen and set(seen) == {"cpu"}


def test_legacy_format_from_ember(tmp_path):
    x = ember.arange(6.).reshape(2, 3)
    path = tmp_path / "legacy.pt"
    ember.save({"x": x, "t": x.t(), "i": ember.tensor([1, 2])}, path,
               _use_new_zipfile_serialization=False)
    assert not zipfile.is_zipfile(path)
    t = torch.load(path, weights_only=True)
    _same(x.t(), t["t"])
    assert t["x"].untyped_storage().data_ptr() == t["t"].untyped_storage().data_ptr()
    e = ember.load(path)
    assert e["i"].tolist() == [1, 2] and e["t"].stride() == (1, 3)


def test_torch_legacy_whole_model_needs_weights_only_false(tmp_path):
    path = tmp_path / "legacy_model.pt"
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), path,
               _use_new_zipfile_serialization=False)
    with pytest.raises(pickle.UnpicklingError, match="weights_only"):
        ember.load(path)


def test_safetensors_path_goes_to_safetensors(tmp_path):
    from ember.utils import safetensors
    path = tmp_path / "w.safetensors"
    safetensors.save_file({"a": ember.arange(3.)}, path)
    assert ember.load(path)["a"].tolist() == [0.0, 1.0, 2.0]


# ---------------------------------------------------------------------------
# the seeds' checkpoint code, with ``import ember as torch``


def _seed_model(nn):
    class SimpleNN(nn.Module):
        def __init__(self):
            super(SimpleNN, self).__init__()
            self.fc = nn.Sequential(nn.Linear(100, 50), nn.Linear(50, 10))

        def forward(self, x):
            x = x.view(x.size(0), -1)
            return self.fc(x)
    return SimpleNN


def test_seed_000_state_dict_checkpoint(tmp_path, monkeypatch):
    nn = _nn()
    torch_ = ember
    monkeypatch.chdir(tmp_path)
    SimpleNN = _seed_model(nn)
    simpleNN = SimpleNN()
    x = torch_.rand(4, 10, 10, 1)
    simpleNN.cpu()
    torch_.save(simpleNN.state_dict(), "randmodel.model")
    model2 = SimpleNN()
    result = model2.load_state_dict(torch_.load("randmodel.model"))
    assert "All keys matched successfully" in str(result)
    assert torch_.equal(model2(x), simpleNN(x))
    # real torch reads the same file
    sd = torch.load("randmodel.model")
    assert sorted(sd) == sorted(simpleNN.state_dict())


def test_seed_001_save_weights_and_whole_model(tmp_path, monkeypatch):
    nn = _nn()
    torch_ = ember
    monkeypatch.chdir(tmp_path)
    model = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
    torch_.save(model.state_dict(), "model_weights.pth")
    model2 = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
    model2.load_state_dict(torch_.load("model_weights.pth"))
    model2.eval()
    x = torch_.randn(3, 8)
    assert torch_.equal(model2(x), model(x))
    torch_.save(model, "model.pth")
    model3 = torch_.load("model.pth", weights_only=False)
    assert torch_.equal(model3(x), model(x))


def test_seed_004_point_17(tmp_path, monkeypatch):
    nn = _nn()
    torch_ = ember
    monkeypatch.chdir(tmp_path)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    print("Our model: \n\n", model, "\n")
    print("The state dict keys: \n\n", model.state_dict().keys())
    torch_.save(model.state_dict(), "checkpoint.pth")
    state_dict = torch_.load("checkpoint.pth")
    model.load_state_dict(state_dict)
    assert list(state_dict.keys()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    # a checkpoint that carries the architecture too, as the notes suggest
    checkpoint = {"input_size": 784, "output_size": 10, "hidden_layers": [256],
                  "state_dict": model.state_dict()}
    torch_.save(checkpoint, "checkpoint.pth")
    loaded = torch_.load("checkpoint.pth")
    rebuilt = nn.Sequential(nn.Linear(loaded["input_size"], loaded["hidden_layers"][0]), nn.ReLU(),
                            nn.Linear(loaded["hidden_layers"][0], loaded["output_size"]))
    rebuilt.load_state_dict(loaded["state_dict"])
    x = torch_.randn(2, 784)
    assert torch_.equal(rebuilt(x), model(x))


def test_example_checkpoint_resume(tmp_path):
    nn = _nn()
    if not hasattr(ember.optim, "Adam") or not hasattr(nn, "MSELoss"):
        pytest.skip("ember.optim.Adam / nn.MSELoss are not built yet")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "checkpoint_resume.py"),
                          "--epochs", "4", "--resume-from", "2", "--dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "resumed losses identical: True" in out.stdout
    # the example's checkpoints are PyTorch checkpoints
    ckpt = torch.load(tmp_path / "checkpoint_epoch2.pt")
    assert ckpt["epoch"] == 2 and sorted(ckpt["optimizer_state_dict"]["state"]) == [0, 1, 2, 3]
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                                torch.nn.Linear(32, 1))
    model.load_state_dict(ckpt["model_state_dict"])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    opt.load_state_dict(ckpt["optimizer_state_dict"])


def test_torch_parameter_with_attributes_and_unsupported_layouts(tmp_path):
    """A Parameter carrying Python attributes keeps them; a sparse tensor is
    refused with a message saying what to do."""
    p = torch.nn.Parameter(torch.arange(3.0))
    p.tag = "frozen"
    path = tmp_path / "p.pt"
    torch.save({"p": p}, path)
    e = ember.load(path)["p"]
    assert isinstance(e, ember.nn.Parameter) and e.requires_grad and e.tag == "frozen"
    assert e.tolist() == [0.0, 1.0, 2.0]
    torch.save({"s": torch.eye(3).to_sparse()}, tmp_path / "s.pt")
    with pytest.raises(RuntimeError, match="convert it to a dense CPU tensor"):
        ember.load(tmp_path / "s.pt", weights_only=False)
