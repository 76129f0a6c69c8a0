"""Datasets, random_split and samplers against torch's behaviour."""
import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
import ember.utils.data as eud
from oracle import assert_close, to_ember


def _datasets(lib):
    """A map-style and an iterable dataset built on ``lib`` (ember's or torch's)."""
    class Squares(lib.Dataset):
        def __init__(self, n):
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            if not 0 <= i < self.n:
                raise IndexError(i)
            return i * i

    class Stream(lib.IterableDataset):
        def __init__(self, items):
            self.items = items

        def __iter__(self):
            return iter(self.items)

        def __len__(self):
            return len(self.items)

    return Squares, Stream


Squares, Stream = _datasets(eud)
TSquares, TStream = _datasets(tud)


# ------------------------------------------------------------------ datasets
def test_base_dataset_errors_like_torch():
    for lib in (eud, tud):
        with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement"):
            lib.Dataset()[0]
        with pytest.raises(TypeError):
            len(lib.Dataset())
    assert isinstance(Squares(2) + Squares(3), eud.ConcatDataset)
    assert isinstance(Stream([1]) + Stream([2]), eud.ChainDataset)


def test_tensor_dataset_matches_torch():
    x = np.arange(24, dtype=np.float32).reshape(6, 2, 2)
    y = np.arange(6)
    e = eud.TensorDataset(ember.tensor(x), ember.tensor(y))
    t = tud.TensorDataset(torch.tensor(x), torch.tensor(y))
    assert len(e) == len(t) == 6
    for i in (0, 5, -1):
        assert_close(e[i][0], t[i][0])
        assert_close(e[i][1], t[i][1])
    assert_close(e[1:3][0], t[1:3][0])
    assert isinstance(e[0], tuple)
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        eud.TensorDataset(ember.zeros(3), ember.zeros(4))
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        tud.TensorDataset(torch.zeros(3), torch.zeros(4))


def test_subset_matches_torch():
    e = eud.Subset(Squares(10), [7, 2, 5])
    t = tud.Subset(TSquares(10), [7, 2, 5])
    assert len(e) == len(t) == 3
    assert [e[i] for i in range(3)] == [t[i] for i in range(3)] == [49, 4, 25]
    assert e.__getitems__([2, 0]) == t.__getitems__([2, 0]) == [25, 49]
    assert e[-1] == t[-1]


def test_subset_forwards_getitems_and_rejects_half_overrides():
    class Batched(Squares):
        def __getitems__(self, idxs):
            return ["batched"] * len(idxs)

    assert eud.Subset(Batched(5), [1, 2]).__getitems__([0, 1]) == ["batched", "batched"]

    class Bad(eud.Subset):
        def __getitem__(self, i):
            return 0

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        Bad(Squares(3), [0])


def test_concat_dataset_matches_torch():
    e = eud.ConcatDataset([Squares(3), Squares(0), Squares(4)])
    t = tud.ConcatDataset([TSquares(3), TSquares(0), TSquares(4)])
    assert e.cumulative_sizes == t.cumulative_sizes == [3, 3, 7]
    assert len(e) == len(t)
    assert [e[i] for i in range(-7, 7)] == [t[i] for i in range(-7, 7)]
    for lib, d in ((eud, e), (tud, t)):
        with pytest.raises(ValueError, match="absolute value of index should not exceed"):
            d[-8]
        with pytest.raises(IndexError):
            d[7]
        with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
            lib.ConcatDataset([])
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        eud.ConcatDataset([Stream([1])])
    with pytest.warns(FutureWarning):
        assert e.cummulative_sizes == [3, 3, 7]
    assert (Squares(2) + Squares(1))[2] == 0


def test_chain_dataset_matches_torch():
    e = eud.ChainDataset([Stream([1, 2]), Stream([3])])
    t = tud.ChainDataset([TStream([1, 2]), TStream([3])])
    assert list(e) == list(t) == [1, 2, 3]
    assert len(e) == len(t) == 3
    assert list(Stream([1]) + Stream([2, 3])) == [1, 2, 3]
    bad = eud.ChainDataset([Squares(2)])
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(bad)
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        len(bad)


def test_stack_dataset_tuple_and_dict_match_torch():
    e = eud.StackDataset(Squares(4), eud.Subset(Squares(10), [9, 8, 7, 6]))
    t = tud.StackDataset(TSquares(4), tud.Subset(TSquares(10), [9, 8, 7, 6]))
    assert len(e) == len(t) == 4
    assert e[1] == t[1] == (1, 64)
    assert e.__getitems__([0, 3]) == t.__getitems__([0, 3])
    e = eud.StackDataset(a=Squares(3), b=eud.Subset(Squares(5), [4, 3, 2]))
    t = tud.StackDataset(a=TSquares(3), b=tud.Subset(TSquares(5), [4, 3, 2]))
    assert e[2] == t[2] == {"a": 4, "b": 4}
    assert e.__getitems__([1, 0]) == t.__getitems__([1, 0])
    for lib, sq in ((eud, Squares), (tud, TSquares)):
        with pytest.raises(ValueError, match="Size mismatch between datasets"):
            lib.StackDataset(sq(2), sq(3))
        with pytest.raises(ValueError, match="At least one dataset should be passed"):
            lib.StackDataset()
        with pytest.raises(ValueError, match="but both types are given"):
            lib.StackDataset(sq(2), b=sq(2))


def test_stack_dataset_checks_nested_getitems_size():
    class Short(Squares):
        def __getitems__(self, idxs):
            return [0]

    with pytest.raises(ValueError, match="Nested dataset's output size mismatch. Expected 2, got 1"):
        eud.StackDataset(Short(3)).__getitems__([0, 1])


# -------------------------------------------------------------- random_split
@pytest.mark.parametrize("n, lengths", [
    (10, [3, 7]), (30, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]),
    (5, [1 / 3, 1 / 3, 1 / 3]), (10, [10]), (3, [0.25, 0.25, 0.25, 0.25])])
def test_random_split_lengths_match_torch_and_are_disjoint(n, lengths):
    with warnings.catch_warnings(record=True) as ew:
        warnings.simplefilter("always")
        es = eud.random_split(range(n), lengths, generator=ember.Generator().manual_seed(0))
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        ts = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in es] == [len(s) for s in ts]
    assert [str(w.message) for w in ew] == [str(w.message) for w in tw]
    items = [x for s in es for x in s]
    assert sorted(items) == list(range(n))  # disjoint and complete
    assert all(isinstance(s, eud.Subset) for s in es)


def test_random_split_is_reproducible_and_uses_the_global_generator():
    a = eud.random_split(range(20), [5, 15], generator=ember.Generator().manual_seed(3))
    b = eud.random_split(range(20), [5, 15], generator=ember.Generator().manual_seed(3))
    assert [list(s) for s in a] == [list(s) for s in b]
    ember.manual_seed(7)
    c = [list(s) for s in eud.random_split(range(20), [0.5, 0.5])]
    ember.manual_seed(7)
    assert c == [list(s) for s in eud.random_split(range(20), [0.5, 0.5])]
    assert c[0] != list(range(10))


def test_random_split_errors_match_torch():
    for lib in (eud, tud):
        with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
            lib.random_split(range(10), [3, 3])
        with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
            lib.random_split(range(10), [0.5, -0.5, 1.0])


# ------------------------------------------------------------------ samplers
def test_sequential_sampler():
    s = eud.SequentialSampler(range(5))
    assert list(s) == list(tud.SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    assert len(s) == 5
    with pytest.raises(TypeError, match="takes no arguments"):
        eud.Sampler([1])


def test_random_sampler_permutation_and_reproducibility():
    s = eud.RandomSampler(range(10), generator=ember.Generator().manual_seed(1))
    a = list(s)
    assert sorted(a) == list(range(10)) and len(s) == 10
    assert a == list(eud.RandomSampler(range(10), generator=ember.Generator().manual_seed(1)))
    assert list(s) != a  # the generator moved on: a new epoch, a new order
    ember.manual_seed(5)
    b = list(eud.RandomSampler(range(10)))
    ember.manual_seed(5)
    assert b == list(eud.RandomSampler(range(10)))


@pytest.mark.parametrize("num_samples", [3, 10, 25])
def test_random_sampler_num_samples_without_replacement(num_samples):
    s = eud.RandomSampler(range(10), num_samples=num_samples)
    t = tud.RandomSampler(range(10), num_samples=num_samples)
    out = list(s)
    assert len(out) == len(s) == len(list(t)) == num_samples
    for k in range(0, num_samples, 10):  # each block of 10 is a permutation (prefix)
        block = out[k:k + 10]
        assert len(set(block)) == len(block)


def test_random_sampler_with_replacement():
    s = eud.RandomSampler(range(5), replacement=True, num_samples=70,
                          generator=ember.Generator().manual_seed(0))
    out = list(s)
    assert len(out) == 70 and set(out) <= set(range(5))
    assert len(set(out)) == 5 and any(out.count(i) > 14 for i in range(5))


def test_random_sampler_argument_errors_match_torch():
    for lib in (eud, tud):
        with pytest.raises(TypeError, match="replacement should be a boolean value"):
            lib.RandomSampler(range(3), replacement=1)
        with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
            lib.RandomSampler(range(3), num_samples=0)
        with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
            lib.RandomSampler([])


def test_subset_random_sampler():
    idx = [10, 20, 30, 40]
    s = eud.SubsetRandomSampler(idx, generator=ember.Generator().manual_seed(0))
    out = list(s)
    assert sorted(out) == idx and len(s) == 4
    assert out == list(eud.SubsetRandomSampler(idx, generator=ember.Generator().manual_seed(0)))


def test_weighted_random_sampler_statistics():
    w = [0.1, 0.9, 0.0, 3.0]
    s = eud.WeightedRandomSampler(w, 40000, generator=ember.Generator().manual_seed(0))
    counts = np.bincount(list(s), minlength=4) / 40000
    np.testing.assert_allclose(counts, np.array(w) / sum(w), atol=0.01)
    assert counts[2] == 0
    assert len(s) == 40000


def test_weighted_random_sampler_without_replacement():
    w = [0.9, 0.4, 0.05, 0.2, 0.3, 0.1]
    out = list(eud.WeightedRandomSampler(w, 6, replacement=False))
    assert sorted(out) == list(range(6))
    # the heaviest index comes first most of the time
    firsts = [list(eud.WeightedRandomSampler(w, 2, replacement=False))[0] for _ in range(300)]
    assert abs(firsts.count(0) / 300 - 0.9 / sum(w)) < 0.1
    with pytest.raises(RuntimeError):
        list(eud.WeightedRandomSampler([1.0, 1.0], 3, replacement=False))


def test_weighted_random_sampler_errors_match_torch():
    for lib in (eud, tud):
        with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
            lib.WeightedRandomSampler([1.0], 0)
        with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
            lib.WeightedRandomSampler([1.0], True)
        with pytest.raises(ValueError, match="replacement should be a boolean value"):
            lib.WeightedRandomSampler([1.0], 1, replacement=0)
        with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights "
                                             r"have shape \(1, 2\)"):
            lib.WeightedRandomSampler([[1.0, 2.0]], 1)
    assert eud.WeightedRandomSampler([1, 2], 1).weights.dtype == ember.float64


@pytest.mark.parametrize("n, bs, drop_last", [(10, 3, False), (10, 3, True), (9, 3, True),
                                              (2, 5, False), (2, 5, True), (0, 2, False)])
def test_batch_sampler_matches_torch(n, bs, drop_last):
    e = eud.BatchSampler(eud.SequentialSampler(range(n)), bs, drop_last)
    t = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop_last)
    assert list(e) == list(t)
    assert len(e) == len(t)
    assert list(eud.BatchSampler(range(n), bs, drop_last)) == list(t)  # any iterable


def test_batch_sampler_errors_match_torch():
    for lib in (eud, tud):
        for bad in (0, -1, 1.5, True):
            with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
                lib.BatchSampler(range(3), bad, False)
        with pytest.raises(ValueError, match="drop_last should be a boolean value"):
            lib.BatchSampler(range(3), 2, 0)


def test_distributed_sampler_shards_cover_the_dataset():
    shards = [list(eud.DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False))
              for r in range(3)]
    tshards = [list(tud.DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False))
               for r in range(3)]
    assert shards == tshards
    s = [eud.DistributedSampler(range(10), num_replicas=3, rank=r, seed=4, drop_last=True)
         for r in range(3)]
    parts = [list(x) for x in s]
    assert [len(p) for p in parts] == [3, 3, 3]
    assert len(set(sum(parts, []))) == 9
    s[0].set_epoch(1)
    assert list(s[0]) != parts[0] or list(s[1]) != parts[1]
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        eud.DistributedSampler(range(3), num_replicas=3, rank=3)
    if not hasattr(ember, "distributed"):
        with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
            eud.DistributedSampler(range(3))


def test_tensor_dataset_of_tensors_from_torch_oracle():
    t = torch.arange(12.0).reshape(4, 3)
    e = eud.TensorDataset(to_ember(t))
    assert_close(e[2][0], tud.TensorDataset(t)[2][0])


def test_public_names_match_torch():
    core = {n for n in tud.__all__ if "DataPipe" not in n and n not in (
        "DataChunk", "argument_validation", "functional_datapipe",
        "guaranteed_datapipes_determinism", "non_deterministic", "runtime_validation",
        "runtime_validation_disabled")}
    assert core <= set(eud.__all__)
    assert all(hasattr(eud, n) for n in eud.__all__)
    assert isinstance(collections.abc.Iterable, type) and issubclass(eud.IterableDataset,
                                                                      collections.abc.Iterable)
