"""ember.utils.safetensors against the safetensors package (torch and NumPy
flavours), in both directions."""
import json
import struct

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import ember
from ember.utils import safetensors as est
from oracle import DTYPES

# every ember dtype safetensors can hold (it has no complex128)
ST_DTYPES = [d for d in DTYPES if d is not ember.complex128]


def _data(dtype, shape, seed=0):
    r = np.random.default_rng(seed)
    npd = dtype.np
    if npd == np.bool_:
        return r.integers(0, 2, shape).astype(bool)
    if npd.kind in "iu":
        return r.integers(0, 100, shape).astype(npd)
    if npd.kind == "c":
        return np.asarray(r.standard_normal(shape) + 1j * r.standard_normal(shape)).astype(npd)
    return r.standard_normal(shape).astype(npd)


@pytest.mark.parametrize("dtype", ST_DTYPES, ids=str)
def test_ember_file_reads_in_safetensors_torch(tmp_path, dtype):
    arrays = {"a": _data(dtype, (2, 3)), "scalar": _data(dtype, ()), "empty": _data(dtype, (0, 4)),
              "b.weight": _data(dtype, (5,), seed=1)}
    path = tmp_path / "e.safetensors"
    est.save_file({k: ember.tensor(v) for k, v in arrays.items()}, path, metadata={"format": "pt"})
    out = safetensors.torch.load_file(path)
    assert set(out) == set(arrays)
    for k, v in arrays.items():
        assert out[k].dtype == DTYPES[dtype] and tuple(out[k].shape) == v.shape
        np.testing.assert_array_equal(out[k].numpy(), v)
    with safetensors.safe_open(path, framework="np") as f:
        assert f.metadata() == {"format": "pt"}


@pytest.mark.parametrize("dtype", ST_DTYPES, ids=str)
def test_safetensors_torch_file_reads_in_ember(tmp_path, dtype):
    arrays = {"x": _data(dtype, (3, 2), seed=2), "s": _data(dtype, ()), "e": _data(dtype, (0,))}
    path = tmp_path / "t.safetensors"
    safetensors.torch.save_file({k: torch.from_numpy(v.copy()) for k, v in arrays.items()}, path,
                                metadata={"k": "v"})
    out = est.load_file(path)
    for k, v in arrays.items():
        assert out[k].dtype is dtype and tuple(out[k].shape) == v.shape
        np.testing.assert_array_equal(out[k].numpy(), v)
    with est.safe_open(path, framework="pt") as f:
        assert f.metadata() == {"k": "v"} and f.keys() == sorted(arrays)
        np.testing.assert_array_equal(f.get_tensor("x").numpy(), arrays["x"])
    with est.safe_open(path, framework="np") as f:
        assert isinstance(f.get_tensor("x"), np.ndarray)


def test_bytes_round_trip_and_numpy_flavour():
    t = {"w": ember.arange(6.).reshape(2, 3), "i": ember.tensor([1, 2], dtype=ember.int8)}
    data = est.save(t, metadata={"m": "1"})
    np_out = safetensors.numpy.load(data)
    np.testing.assert_array_equal(np_out["w"], np.arange(6.).reshape(2, 3).astype(np.float32))
    back = est.load(safetensors.numpy.save({"z": np.ones((2, 2), np.float64)}))
    assert back["z"].dtype is ember.float64 and back["z"].tolist() == [[1, 1], [1, 1]]
    again = est.load(data)
    assert again["i"].tolist() == [1, 2] and again["w"].stride() == (3, 1)
    # the data section starts 8-byte aligned, as the package writes it
    assert (8 + struct.unpack("<Q", data[:8])[0]) % 8 == 0


def test_bfloat16_loads_as_float32(tmp_path):
    t = torch.tensor([1.5, -2.0, 0.1]).bfloat16()
    path = tmp_path / "bf.safetensors"
    safetensors.torch.save_file({"bf": t}, path)
    with pytest.warns(UserWarning, match="bfloat16"):
        out = est.load_file(path)
    assert out["bf"].dtype is ember.float32
    np.testing.assert_array_equal(out["bf"].numpy(), t.float().numpy())
    u16 = tmp_path / "u16.safetensors"
    safetensors.torch.save_file({"u": torch.tensor([1, 2], dtype=torch.uint16)}, u16)
    with pytest.raises(RuntimeError, match="uint16"):
        est.load_file(u16)


def test_save_refuses_what_the_package_refuses(tmp_path):
    x = ember.arange(6.).reshape(2, 3)
    with pytest.raises(ValueError, match="non contiguous"):
        est.save_file({"t": x.t()}, tmp_path / "a.safetensors")
    with pytest.raises(RuntimeError, match="share memory"):
        est.save_file({"a": x, "b": x[1]}, tmp_path / "b.safetensors")
    with pytest.raises(ValueError, match="expected ember.Tensor"):
        est.save_file({"a": np.ones(2)}, tmp_path / "c.safetensors")
    with pytest.raises(ValueError, match="complex128"):
        est.save_file({"a": ember.tensor([1j], dtype=ember.complex128)}, tmp_path / "d.safetensors")
    with pytest.raises(ValueError, match="metadata"):
        est.save({"a": x}, metadata={"n": 1})
    # non-overlapping parts of one array are fine
    est.save_file({"r0": x[0], "r1": x[1]}, tmp_path / "rows.safetensors")
    out = safetensors.torch.load_file(tmp_path / "rows.safetensors")
    assert out["r1"].tolist() == [3.0, 4.0, 5.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.safetensors"]


def _header_file(path, header, data=b""):
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


@pytest.mark.parametrize("header,data,msg", [
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "Incomplete"),
    ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, "InvalidInfo"),
    ({"a": {"dtype": "X9", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, "unknown dtype"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "InvalidOffset"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
      "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "InvalidOffset"),
])
def test_malformed_headers(tmp_path, header, data, msg):
    path = _header_file(tmp_path / "bad.safetensors", header, data)
    with pytest.raises(est.SafetensorError, match=msg):
        est.load_file(path)
    with pytest.raises(Exception):   # the package refuses them too
        safetensors.torch.load_file(path)


def test_truncated_and_garbage_files(tmp_path):
    good = tmp_path / "g.safetensors"
    est.save_file({"a": ember.ones(10)}, good)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(good.read_bytes()[:-4])
    with pytest.raises(est.SafetensorError, match="truncated"):
        est.load_file(cut)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\xff" * 16)
    with pytest.raises(est.SafetensorError, match="HeaderTooLarge"):
        est.load_file(junk)
    tiny = tmp_path / "tiny.safetensors"
    tiny.write_bytes(b"\x01")
    with pytest.raises(est.SafetensorError, match="HeaderTooSmall"):
        est.load_file(tiny)


def _nn():
    if not hasattr(ember.nn, "Linear") or not hasattr(ember.nn.Module, "load_state_dict"):
        pytest.skip("ember.nn (Linear, Module.load_state_dict) is not built yet")
    return ember.nn


def test_save_model_load_model_with_tied_weights(tmp_path):
    nn = _nn()

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Linear(4, 4, bias=False)
            self.out = nn.Linear(4, 4, bias=False)
            self.out.weight = self.emb.weight

        def forward(self, x):
            return self.out(self.emb(x))

    model = Tied()
    path = tmp_path / "m.safetensors"
    est.save_model(model, path)
    with safetensors.safe_open(path, framework="np") as f:
        assert f.keys() == ["emb.weight"] and f.metadata() == {"out.weight": "emb.weight"}
    other = Tied()
    missing, unexpected = est.load_model(other, path)
    assert missing == [] and unexpected == []
    x = ember.randn(2, 4)
    assert ember.equal(other(x), model(x))
    assert other.out.weight is other.emb.weight
    plain = nn.Linear(4, 4, bias=False)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        est.load_model(plain, path)
    missing, unexpected = est.load_model(plain, path, strict=False)
    assert unexpected == ["emb.weight"] and missing == ["weight"]


def test_model_file_interchanges_with_torch(tmp_path):
    nn = _nn()
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    path = tmp_path / "t.safetensors"
    safetensors.torch.save_model(tmodel, path)
    emodel = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    est.load_model(emodel, path)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(emodel(ember.tensor(x)).detach().numpy(),
                               tmodel(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6)
    back = tmp_path / "e.safetensors"
    est.save_model(emodel, back)
    t2 = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    safetensors.torch.load_model(t2, back)
    torch.testing.assert_close(t2(torch.tensor(x)), tmodel(torch.tensor(x)))
