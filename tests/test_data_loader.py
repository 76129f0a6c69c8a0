"""DataLoader in the main process against torch: batches, lengths, argument
checks, iterable datasets, samplers and collate functions."""
import collections
import math
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
import ember.utils.data as eud
from test_data_collate import assert_same_batch, assert_same_batches

Pair = collections.namedtuple("Pair", ["a", "b"])


def _datasets(lib, ud):
    class Samples(ud.Dataset):
        """Samples of every collatable kind."""

        def __init__(self, n):
            self.x = np.arange(n * 6, dtype=np.float32).reshape(n, 2, 3)

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return {"img": lib.from_numpy(self.x[i]), "arr": self.x[i, 0], "label": i,
                    "w": i / 2, "name": f"s{i}", "pair": Pair(i, np.int32(i))}

    class Range(ud.IterableDataset):
        """range(start, end), split among workers (torch's documented example)."""

        def __init__(self, start, end, length=None):
            self.start, self.end, self.length = start, end, length

        def __iter__(self):
            info = ud.get_worker_info()
            if info is None:
                return iter(range(self.start, self.end))
            per_worker = int(math.ceil((self.end - self.start) / float(info.num_workers)))
            lo = self.start + info.id * per_worker
            return iter(range(lo, min(lo + per_worker, self.end)))

        def __len__(self):
            if self.length is None:
                raise TypeError("no length")
            return self.length

    return Samples, Range


Samples, Range = _datasets(ember, eud)
TSamples, TRange = _datasets(torch, tud)


def both(make_kwargs, dataset=("Samples", 7)):
    """The same DataLoader over ember and over torch (``make_kwargs(lib)``
    gives the keyword arguments)."""
    kind, n = dataset
    e = {"Samples": Samples, "Range": Range}[kind]
    t = {"Samples": TSamples, "Range": TRange}[kind]
    e_ds = e(n) if kind == "Samples" else e(*n)
    t_ds = t(n) if kind == "Samples" else t(*n)
    return (eud.DataLoader(e_ds, **make_kwargs(ember, eud)),
            tud.DataLoader(t_ds, **make_kwargs(torch, tud)))


@pytest.mark.parametrize("kwargs", [
    {}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": 7},
    {"batch_size": 10}, {"batch_size": None}])
def test_batches_match_torch(kwargs):
    e, t = both(lambda lib, ud: dict(kwargs))
    assert len(e) == len(t)
    assert_same_batches(e, t)


def test_batch_size_none_converts_without_batching():
    e, t = both(lambda lib, ud: {"batch_size": None})
    first = next(iter(e))
    assert first["label"] == 0 and isinstance(first["label"], int)
    assert isinstance(first["arr"], ember.Tensor) and tuple(first["arr"].shape) == (3,)
    assert_same_batch(first, next(iter(t)))
    assert e.batch_sampler is None and e.collate_fn is eud.default_convert


def test_custom_sampler_batch_sampler_and_collate_fn_match_torch():
    e, t = both(lambda lib, ud: {"sampler": [6, 0, 3], "batch_size": 2})
    assert_same_batches(e, t)
    e, t = both(lambda lib, ud: {"batch_sampler": [[1, 2], [0], [6, 5, 4]]})
    assert [b["label"].tolist() for b in e] == [b["label"].tolist() for b in t] == \
        [[1, 2], [0], [6, 5, 4]]
    e, t = both(lambda lib, ud: {"batch_size": 3, "collate_fn": lambda b: [s["name"] for s in b]})
    assert list(e) == list(t) == [["s0", "s1", "s2"], ["s3", "s4", "s5"], ["s6"]]


def test_getitems_fast_path_is_used():
    class Batched(eud.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, idxs):
            return [i * 10 for i in idxs]

    assert [b.tolist() for b in eud.DataLoader(Batched(), batch_size=2)] == [[0, 10], [20, 30],
                                                                              [40]]


def test_shuffle_is_reproducible_with_a_generator_and_new_each_epoch():
    ds = eud.TensorDataset(ember.arange(20))
    loader = eud.DataLoader(ds, batch_size=5, shuffle=True,
                            generator=ember.Generator().manual_seed(0))
    epoch1 = [b[0].tolist() for b in loader]
    epoch2 = [b[0].tolist() for b in loader]
    assert sorted(sum(epoch1, [])) == list(range(20))
    assert epoch1 != epoch2
    again = eud.DataLoader(ds, batch_size=5, shuffle=True,
                           generator=ember.Generator().manual_seed(0))
    assert [b[0].tolist() for b in again] == epoch1
    ember.manual_seed(1)
    g1 = [b[0].tolist() for b in eud.DataLoader(ds, batch_size=5, shuffle=True)]
    ember.manual_seed(1)
    assert [b[0].tolist() for b in eud.DataLoader(ds, batch_size=5, shuffle=True)] == g1


def test_iterable_dataset_batches_and_len_match_torch():
    for kwargs in ({}, {"batch_size": 2}, {"batch_size": 2, "drop_last": True},
                   {"batch_size": None}):
        e, t = both(lambda lib, ud: dict(kwargs), ("Range", (3, 8, 5)))
        assert len(e) == len(t)
        assert_same_batches(e, t)


def test_iterable_dataset_without_len():
    loader = eud.DataLoader(Range(0, 3), batch_size=2)
    with pytest.raises(TypeError):
        len(loader)
    assert [b.tolist() for b in loader] == [[0, 1], [2]]


def test_iterable_dataset_len_warning_matches_torch():
    msgs = []
    for lib, ds in ((eud, Range(0, 5, length=3)), (tud, TRange(0, 5, length=3))):
        loader = lib.DataLoader(ds, batch_size=1)
        assert len(loader) == 3
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            assert len(list(loader)) == 5
        msgs.append([str(x.message) for x in w if "Length of IterableDataset" in str(x.message)])
    assert len(msgs[0]) == len(msgs[1]) == 2
    assert "was reported to be 3(when accessing len(dataloader)), but 4 samples have been " \
           "fetched" in msgs[0][0]


BAD_ARGS = [
    {"num_workers": -1},
    {"timeout": -1},
    {"prefetch_factor": 2},
    {"num_workers": 1, "prefetch_factor": -1},
    {"persistent_workers": True},
    {"batch_sampler": [[0]], "batch_size": 2},
    {"batch_sampler": [[0]], "shuffle": True},
    {"batch_sampler": [[0]], "sampler": [0]},
    {"batch_sampler": [[0]], "drop_last": True},
    {"sampler": [0], "shuffle": True},
    {"batch_size": None, "drop_last": True},
    {"multiprocessing_context": "fork"},
    {"num_workers": 1, "multiprocessing_context": "nonsense"},
    {"num_workers": 1, "multiprocessing_context": 3},
]


@pytest.mark.parametrize("kwargs", BAD_ARGS)
def test_argument_errors_match_torch(kwargs):
    with pytest.raises(Exception) as te:
        tud.DataLoader(TSamples(3), **kwargs)
    with pytest.raises(te.type) as ee:
        eud.DataLoader(Samples(3), **kwargs)
    assert str(ee.value) == str(te.value)


@pytest.mark.parametrize("kwargs", [{"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}])
def test_iterable_dataset_rejects_samplers_like_torch(kwargs):
    with pytest.raises(ValueError) as te:
        tud.DataLoader(TRange(0, 3), **kwargs)
    with pytest.raises(ValueError) as ee:
        eud.DataLoader(Range(0, 3), **kwargs)
    assert str(ee.value).split(", but got")[0] == str(te.value).split(", but got")[0]


def test_attributes_frozen_after_init_and_defaults():
    loader = eud.DataLoader(Samples(3))
    for attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                 "persistent_workers"):
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set after "
                                             "DataLoader is initialized"):
            setattr(loader, attr, None)
    loader.num_workers = 0  # others may change
    assert isinstance(loader.sampler, eud.SequentialSampler)
    assert isinstance(loader.batch_sampler, eud.BatchSampler)
    assert loader.collate_fn is eud.default_collate and loader.prefetch_factor is None
    assert isinstance(eud.DataLoader(Samples(3), shuffle=True).sampler, eud.RandomSampler)
    assert eud.DataLoader(Samples(3), num_workers=2).prefetch_factor == 2


def test_pin_memory_without_accelerator_warns_and_works():
    if ember.cuda.is_available():
        pytest.skip("an accelerator is present")
    loader = eud.DataLoader(Samples(4), batch_size=2, pin_memory=True)
    with pytest.warns(UserWarning, match="no accelerator is found"):
        batches = list(loader)
    assert len(batches) == 2 and not batches[0]["img"].is_pinned()
    msgs = []
    for lib, ds in ((eud, Samples(2)), (tud, TSamples(2))):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            list(lib.DataLoader(ds, pin_memory=True, pin_memory_device="cuda"))
        msgs.append(sorted(str(x.message) for x in w))
    assert msgs[0] == msgs[1] and any("pin_memory_device is deprecated" in m for m in msgs[0])


def test_too_many_workers_warns():
    with pytest.warns(UserWarning, match="This DataLoader will create 10000 worker processes"):
        eud.DataLoader(Samples(3), num_workers=10000)


def test_iterators_are_not_picklable():
    import pickle
    with pytest.raises(NotImplementedError):
        pickle.dumps(iter(eud.DataLoader(Samples(3))))
