"""default_collate / default_convert / collate against torch: the same batch
structure (container types), tensor dtypes, shapes and values, and the same
errors."""
import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
import ember.utils.data as eud
from ember.utils.data._utils import collate as ecollate
from oracle import assert_close

Point = collections.namedtuple("Point", ["x", "y"])


def assert_same_batch(e, t):
    """``e`` (ember) has the structure of ``t`` (torch, or ember), leaf by leaf."""
    if isinstance(t, (torch.Tensor, ember.Tensor)):
        assert isinstance(e, ember.Tensor), f"expected a Tensor, got {type(e).__name__}"
        assert_close(e, t if isinstance(t, torch.Tensor) else torch.from_numpy(t.numpy()))
        return
    assert type(e) is type(t), f"{type(e).__name__} != {type(t).__name__}"
    if isinstance(t, collections.abc.Mapping):
        assert list(e) == list(t)
        for k in t:
            assert_same_batch(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            assert_same_batch(a, b)
    elif isinstance(t, np.ndarray):
        np.testing.assert_array_equal(e, t)
    else:
        assert e == t


def assert_same_batches(e_batches, t_batches):
    """Two loaders (or lists of batches) give the same batches."""
    eb, tb = list(e_batches), list(t_batches)
    assert len(eb) == len(tb), f"{len(eb)} batches != {len(tb)}"
    for a, b in zip(eb, tb):
        assert_same_batch(a, b)


class MyMapping(collections.abc.Mapping):  # immutable: rebuilt through its constructor
    def __init__(self, d):
        self._d = dict(d)

    def __getitem__(self, k):
        return self._d[k]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)

    def __eq__(self, other):
        return type(other) is type(self) and self._d == other._d


# Each case builds a batch (list of samples) with the given library's tensors.
CASES = {
    "float tensors": lambda L: [L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0])],
    "int tensors 2d": lambda L: [L.arange(6).reshape(2, 3), L.arange(6, 12).reshape(2, 3)],
    "0-d tensors": lambda L: [L.tensor(1.5), L.tensor(2.5), L.tensor(3.5)],
    "bool tensors": lambda L: [L.tensor([True]), L.tensor([False])],
    "uint8 arrays": lambda L: [np.arange(4, dtype=np.uint8), np.arange(4, 8, dtype=np.uint8)],
    "float64 arrays": lambda L: [np.ones((2, 2)), np.zeros((2, 2))],
    "int32 arrays": lambda L: [np.array([1, 2], dtype=np.int32), np.array([3, 4], np.int32)],
    "bool arrays": lambda L: [np.array([True, False]), np.array([False, False])],
    "0-d arrays": lambda L: [np.array(1.5, dtype=np.float32), np.array(2.0, np.float32)],
    "np float32 scalars": lambda L: [np.float32(1.5), np.float32(2.5)],
    "np float64 scalars": lambda L: [np.float64(1.5), np.float64(2.5)],
    "np int64 scalars": lambda L: [np.int64(1), np.int64(2)],
    "np int16 scalars": lambda L: [np.int16(1), np.int16(2)],
    "np bool scalars": lambda L: [np.bool_(True), np.bool_(False)],
    "floats": lambda L: [1.0, 2.5, -3.0],
    "ints": lambda L: [1, 2, 3],
    "bools": lambda L: [True, False],
    "strs": lambda L: ["a", "bc"],
    "bytes": lambda L: [b"a", b"bc"],
    "dicts": lambda L: [{"x": L.tensor([1.0]), "y": 1, "s": "a"},
                        {"x": L.tensor([2.0]), "y": 2, "s": "b"}],
    "OrderedDicts": lambda L: [collections.OrderedDict(a=1.0, b=np.int8(2)),
                               collections.OrderedDict(a=2.0, b=np.int8(3))],
    "defaultdicts": lambda L: [collections.defaultdict(int, a=1), collections.defaultdict(int, a=2)],
    "immutable mappings": lambda L: [MyMapping({"a": 1}), MyMapping({"a": 2})],
    "namedtuples": lambda L: [Point(L.tensor([1.0]), 2), Point(L.tensor([3.0]), 4)],
    "tuples": lambda L: [(L.tensor([1.0]), 2, "a"), (L.tensor([3.0]), 4, "b")],
    "lists": lambda L: [[1, 2.0], [3, 4.0]],
    "nested": lambda L: [{"a": [(1, 2.0)], "b": np.array([1, 2]), "c": Point("p", [1])},
                         {"a": [(3, 4.0)], "b": np.array([3, 4]), "c": Point("q", [2])}],
    "image and label": lambda L: [(L.rand(1, 4, 4), 3), (L.rand(1, 4, 4), 7)],
}


@pytest.mark.parametrize("case", list(CASES))
def test_default_collate_matches_torch(case):
    np.random.seed(0)
    ember.manual_seed(0)
    torch.manual_seed(0)
    tb = CASES[case](torch)
    eb = [_to_ember(s) for s in tb]
    assert_same_batch(eud.default_collate(eb), tud.default_collate(tb))


def _to_ember(x):
    """A sample built for torch, with its torch tensors as ember tensors."""
    if isinstance(x, torch.Tensor):
        return ember.tensor(x.numpy().copy())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*map(_to_ember, x))
    if isinstance(x, (list, tuple)):
        return type(x)(map(_to_ember, x))
    if isinstance(x, MyMapping):
        return MyMapping({k: _to_ember(v) for k, v in x.items()})
    if isinstance(x, dict):
        out = x.copy()
        out.update({k: _to_ember(v) for k, v in x.items()})
        return out
    return x


def test_default_collate_float64_and_int64_from_python_numbers():
    out = eud.default_collate([1.0, 2.0])
    assert out.dtype == ember.float64  # not the default dtype
    assert eud.default_collate([1, 2]).dtype == ember.int64
    assert eud.default_collate([True, False]).dtype == ember.bool


def test_collate_of_arrays_shares_no_memory_with_samples():
    samples = [np.zeros(3, np.float32), np.ones(3, np.float32)]
    out = eud.default_collate(samples)
    out[0, 0] = 5
    assert samples[0][0] == 0


ERRORS = {
    "unequal tensors": lambda L: [L.zeros(2), L.zeros(3)],
    "unequal arrays": lambda L: [np.zeros(2), np.zeros(3)],
    "str arrays": lambda L: [np.array(["a"]), np.array(["b"])],
    "object arrays": lambda L: [np.array([object()]), np.array([object()])],
    "bytes arrays": lambda L: [np.array([b"a"]), np.array([b"b"])],
    "uneven lists": lambda L: [[1, 2], [3]],
    "objects": lambda L: [object(), object()],
    "None": lambda L: [None, None],
    "sets": lambda L: [{1}, {2}],
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_default_collate_errors_match_torch(case):
    with pytest.raises(Exception) as te:
        tud.default_collate(ERRORS[case](torch))
    with pytest.raises(te.type) as ee:
        eud.default_collate(ERRORS[case](ember))
    assert str(ee.value) == str(te.value)


def test_default_collate_error_messages():
    with pytest.raises(TypeError, match="found <U1"):
        eud.default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        eud.default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        eud.default_collate([ember.zeros(2), ember.zeros(3)])


CONVERT = {
    "int": lambda: 3,
    "str": lambda: "abc",
    "array": lambda: np.array([0, 1]),
    "float32 array": lambda: np.ones((2, 2), np.float32),
    "np scalar": lambda: np.float32(2.5),
    "np str scalar": lambda: np.str_("a"),
    "str array": lambda: np.array(["a", "b"]),
    "namedtuple of arrays": lambda: Point(np.array(0), np.array(1.5)),
    "namedtuple of ints": lambda: Point(0, 0),
    "list of arrays": lambda: [np.array([0, 1]), np.array([2, 3])],
    "tuple": lambda: (np.array([1]), 2),
    "dict": lambda: {"a": np.array([1.0]), "b": [np.int64(4)]},
    "range": lambda: range(3),
}


@pytest.mark.parametrize("case", list(CONVERT))
def test_default_convert_matches_torch(case):
    assert_same_batch(eud.default_convert(CONVERT[case]()), tud.default_convert(CONVERT[case]()))


def test_collate_with_custom_map():
    def collate_tensor_fn(batch, *, collate_fn_map):
        return ember.cat(batch)

    def custom(batch):
        return ecollate.collate(batch, collate_fn_map={ember.Tensor: collate_tensor_fn})

    out = custom([(ember.ones(2), ember.zeros(1)), (ember.ones(2), ember.zeros(1))])
    assert [tuple(t.shape) for t in out] == [(4,), (2,)]
    # no map at all: only containers are understood
    with pytest.raises(TypeError, match="found <class 'int'>"):
        ecollate.collate([1, 2])


def test_collate_map_isinstance_lookup_in_insertion_order():
    class Special(float):
        pass

    seen = []
    fn_map = dict(ecollate.default_collate_fn_map)
    fn_map[float] = lambda batch, *, collate_fn_map: seen.append("float") or "f"
    assert ecollate.collate([Special(1.0), Special(2.0)], collate_fn_map=fn_map) == "f"
    assert seen == ["float"]


def test_default_collate_fn_map_is_extensible():
    class Box:
        def __init__(self, v):
            self.v = v

    ecollate.default_collate_fn_map[Box] = \
        lambda batch, *, collate_fn_map: ember.tensor([b.v for b in batch])
    try:
        out = eud.default_collate([{"b": Box(1)}, {"b": Box(2)}])
        assert out["b"].tolist() == [1, 2]
    finally:
        del ecollate.default_collate_fn_map[Box]
