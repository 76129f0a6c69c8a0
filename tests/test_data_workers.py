"""DataLoader with worker processes: same batches as in-process loading,
errors from workers, dead workers, timeouts, shutdown, persistent workers,
iterable-dataset sharding, seeding. Small datasets: every test runs in well
under a second (the 'spawn' one in about one)."""
import gc
import math
import multiprocessing
import os
import random
import signal

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
import ember.utils.data as eud
from ember.utils.data._utils import transport
from test_data_collate import assert_same_batches
from test_data_loader import Range, Samples, TRange

pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create")

# Every loader here has a timeout as a guard: a bug makes a test fail, not hang.
GUARD = 30


def loader(ds, **kw):
    kw.setdefault("timeout", GUARD)
    return eud.DataLoader(ds, **kw)


def no_children():
    gc.collect()
    return multiprocessing.active_children() == []


def shm_segments():
    try:
        return {n for n in os.listdir("/dev/shm") if n.startswith(f"emdl{os.getpid()}_")}
    except OSError:
        return set()


class Big(eud.Dataset):
    """Batches of several megabytes: they travel through shared memory."""

    def __len__(self):
        return 24

    def __getitem__(self, i):
        return ember.full((3, 128, 128), float(i)), {"i": i, "a": np.full(5, i)}


class Failing(eud.Dataset):
    def __init__(self, exc, bad=2):
        self.exc, self.bad = exc, bad

    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == self.bad:
            raise self.exc
        return i


class Dies(eud.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            os._exit(3)
        return i


class Slow(eud.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            import time
            time.sleep(1)
        return i


class WhoAmI(eud.Dataset):
    """Each sample says which worker made it and what its RNGs give."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = eud.get_worker_info()
        return {"pid": os.getpid(), "id": info.id, "seed": info.seed,
                "num_workers": info.num_workers, "random": random.random(),
                "numpy": float(np.random.rand()), "ember": ember.rand(1).item(),
                "same_dataset": info.dataset is self, "init": getattr(self, "init", -1)}


# ------------------------------------------------------------------ batches
@pytest.mark.parametrize("kw", [{"batch_size": 3}, {"batch_size": 2, "drop_last": True},
                                {"batch_size": None}, {"batch_size": 4, "prefetch_factor": 1}])
def test_workers_give_the_batches_of_the_main_process(kw):
    ref = list(eud.DataLoader(Samples(9), **{k: v for k, v in kw.items()
                                             if k != "prefetch_factor"}))
    assert_same_batches(loader(Samples(9), num_workers=2, **kw), ref)


def test_large_batches_through_shared_memory_are_exact_and_cleaned_up(monkeypatch):
    shared = []

    def unpack(msg, real=transport.unpack):
        shared.append(type(msg) is transport.SharedBatch)
        return real(msg)

    monkeypatch.setattr(transport, "unpack", unpack)
    ref = list(eud.DataLoader(Big(), batch_size=6))
    got = list(loader(Big(), batch_size=6, num_workers=2))
    if transport._posixshmem is not None:
        assert shared == [True] * 4
    assert len(got) == len(ref) == 4
    for (x, d), (rx, rd) in zip(got, ref):
        assert x.dtype == ember.float32 and x.shape == rx.shape
        assert ember.equal(x, rx) and d["i"].tolist() == rd["i"].tolist()
        assert ember.equal(d["a"], rd["a"])
    got[0][0].add_(1)  # batches are writable, and their own memory
    assert got[0][0][0, 0, 0, 0].item() == 1.0 and got[1][0][0, 0, 0, 0].item() == 6.0
    assert shm_segments() == set()
    assert no_children()


def test_shuffled_batches_follow_the_generator_with_or_without_workers():
    ds = eud.TensorDataset(ember.arange(30))
    runs = [[b[0].tolist() for b in loader(ds, batch_size=4, shuffle=True, num_workers=nw,
                                           generator=ember.Generator().manual_seed(3),
                                           timeout=GUARD if nw else 0)]
            for nw in (0, 2, 2)]
    assert runs[0] == runs[1] == runs[2]
    assert sorted(sum(runs[0], [])) == list(range(30))


def test_out_of_order_delivery_gives_every_batch():
    got = list(loader(Samples(9), batch_size=2, num_workers=2, in_order=False))
    assert sorted(b["label"].tolist() for b in got) == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]


def test_len_with_workers():
    assert len(loader(Samples(9), batch_size=2, num_workers=2)) == 5


# ------------------------------------------------------------------- errors
def test_worker_exception_is_reraised_with_its_traceback():
    with pytest.raises(ValueError) as e:
        list(loader(Failing(ValueError("bad sample 2")), batch_size=2, num_workers=2))
    msg = str(e.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 1.\n"
                          "Original Traceback (most recent call last):\n")
    assert "in __getitem__" in msg and msg.rstrip().endswith("ValueError: bad sample 2")
    del e  # its traceback holds the iterator, whose collection shuts the workers down
    assert no_children()


def test_worker_exception_message_matches_torch():
    class TFailing(tud.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            if i == 0:
                raise KeyError("missing")
            return i

    it = iter(tud.DataLoader(TFailing(), batch_size=2, num_workers=1))
    with pytest.raises(KeyError) as t:
        next(it)
    it._shutdown_workers()  # torch's iterator, left in a cycle, would take 5 s to stop
    with pytest.raises(KeyError) as e:
        list(loader(Failing(KeyError("missing"), bad=0), batch_size=2, num_workers=1))
    first = str(e.value).splitlines()[:2]
    assert first == str(t.value).splitlines()[:2]
    assert str(e.value).splitlines()[-1] == str(t.value).splitlines()[-1] == \
        "KeyError: 'missing'"


class TwoArgs(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


def test_exception_that_cannot_be_rebuilt_becomes_runtime_error():
    with pytest.raises(RuntimeError, match="Caught TwoArgs in DataLoader worker process 0"):
        list(loader(Failing(TwoArgs(1, 2), bad=0), batch_size=2, num_workers=1))


def test_exception_of_a_local_class_arrives_as_its_base():
    class LocalError(LookupError):
        pass

    with pytest.raises(LookupError, match="Caught LocalError in DataLoader worker process 0"):
        list(loader(Failing(LocalError("x"), bad=0), batch_size=2, num_workers=1))


def test_unpicklable_batch_is_reported_not_lost():
    with pytest.raises(Exception, match="Caught .* in DataLoader worker process 0"):
        list(loader(Samples(2), num_workers=1, collate_fn=lambda b: lambda: b))


def test_worker_init_fn_exception_is_reraised():
    def init(worker_id):
        raise OSError(f"cannot init {worker_id}")

    with pytest.raises(OSError, match="Caught OSError in DataLoader worker process 0") as e:
        list(loader(Samples(4), num_workers=2, worker_init_fn=init))
    del e
    assert no_children()


def test_a_worker_that_exits_raises_runtime_error():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           r"unexpectedly") as e:
        list(loader(Dies(), batch_size=2, num_workers=2))
    del e
    assert no_children()


def test_a_killed_worker_raises_runtime_error():
    it = iter(loader(Samples(40), batch_size=1, num_workers=2))
    next(it)
    os.kill(it._workers[0].pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        for _ in it:
            pass
    del it
    assert no_children()


def test_timeout():
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.2 seconds") as e:
        list(loader(Slow(), batch_size=1, num_workers=1, timeout=0.2))
    del e
    assert no_children()


# ----------------------------------------------------------------- shutdown
def test_early_break_leaves_no_processes_or_segments():
    for ds, kw in ((Samples(50), {"batch_size": 2}), (Big(), {"batch_size": 6})):
        it = iter(loader(ds, num_workers=2, **kw))
        pids = [w.pid for w in it._workers]
        for i, _ in enumerate(it):
            if i == 1:
                break
        del it
        assert no_children()
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert shm_segments() == set()


def test_for_loop_break_shuts_down():
    for batch in loader(Samples(50), batch_size=2, num_workers=2):
        break
    del batch
    assert no_children()


def test_persistent_workers_are_kept_across_epochs():
    ld = loader(WhoAmI(), batch_size=2, num_workers=2, persistent_workers=True)
    epoch1 = list(ld)
    it = ld._iterator
    epoch2 = list(ld)
    assert ld._iterator is it
    assert set(sum((b["pid"].tolist() for b in epoch1), [])) == \
        set(sum((b["pid"].tolist() for b in epoch2), []))
    assert len(multiprocessing.active_children()) == 2
    # an epoch abandoned early does not leak into the next one
    for i, b in enumerate(ld):
        break
    assert [b["id"].tolist() for b in ld] == [[0, 0], [1, 1], [0, 0], [1, 1]]
    del ld, it, epoch1, epoch2, b
    assert no_children()


def test_spawn_context_works():
    ds = eud.TensorDataset(ember.arange(10.0), ember.arange(10))
    got = list(loader(ds, batch_size=4, num_workers=2, multiprocessing_context="spawn"))
    assert [b[1].tolist() for b in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert got[0][0].dtype == ember.float32
    assert no_children()


# ------------------------------------------------------- iterable datasets
def test_iterable_dataset_sharded_with_get_worker_info_matches_torch():
    e = [b.tolist() for b in loader(Range(3, 7), num_workers=2)]
    t = [b.tolist() for b in tud.DataLoader(TRange(3, 7), num_workers=2)]
    assert e == t == [[3], [5], [4], [6]]
    e = [b.tolist() for b in loader(Range(0, 11), batch_size=2, num_workers=3)]
    t = [b.tolist() for b in tud.DataLoader(TRange(0, 11), batch_size=2, num_workers=3)]
    assert e == t


def test_iterable_dataset_replicated_without_sharding():
    class Plain(eud.IterableDataset):
        def __iter__(self):
            return iter(range(3, 7))

    got = sorted(b.item() for b in loader(Plain(), num_workers=2))
    assert got == [3, 3, 4, 4, 5, 5, 6, 6]


def test_worker_init_fn_can_shard_the_dataset():
    class Plain(eud.IterableDataset):
        def __init__(self, start, end):
            self.start, self.end = start, end

        def __iter__(self):
            return iter(range(self.start, self.end))

    def init(worker_id):
        info = eud.get_worker_info()
        ds = info.dataset
        per = int(math.ceil((ds.end - ds.start) / float(info.num_workers)))
        ds.start = ds.start + worker_id * per
        ds.end = min(ds.start + per, ds.end)

    got = [b.item() for b in loader(Plain(3, 7), num_workers=2, worker_init_fn=init)]
    assert got == [3, 5, 4, 6]
    got = [b.item() for b in loader(Plain(3, 7), num_workers=12, worker_init_fn=init)]
    assert got == [3, 4, 5, 6]


def test_persistent_workers_with_iterable_dataset():
    ld = loader(Range(0, 6), batch_size=2, num_workers=2, persistent_workers=True)
    assert [b.tolist() for b in ld] == [b.tolist() for b in ld] == [[0, 1], [3, 4], [2], [5]]
    del ld
    assert no_children()


# -------------------------------------------------------------------- seeds
def test_worker_info_and_seeds():
    assert eud.get_worker_info() is None

    def init(worker_id):
        info = eud.get_worker_info()
        info.dataset.init = (worker_id, info.id)

    runs = []
    for _ in range(2):
        batches = list(loader(WhoAmI(), batch_size=4, num_workers=2, worker_init_fn=init,
                              generator=ember.Generator().manual_seed(11)))
        runs.append([{k: v for k, v in b.items() if k != "pid"} for b in batches])
    assert runs[0][0]["init"][0].tolist() == [0, 0, 0, 0]  # collated (id, id) pairs
    assert runs[0][1]["init"][1].tolist() == [1, 1, 1, 1]
    b0, b1 = [{k: v.tolist() for k, v in b.items() if k != "init"} for b in runs[0]]
    assert set(b0["id"]) == {0} and set(b1["id"]) == {1}
    assert set(b0["num_workers"]) == {2} and all(b0["same_dataset"])
    assert b1["seed"][0] == b0["seed"][0] + 1  # base_seed + worker id
    for key in ("random", "numpy", "ember"):
        assert b0[key] != b1[key]  # each worker has its own streams
        assert len(set(b0[key])) == 4
    # the same generator seed gives the same worker seeds and random streams
    for x, y in zip(runs[0], runs[1]):
        assert all(ember.equal(x[k], y[k]) for k in x if k != "init")
    other = list(loader(WhoAmI(), batch_size=4, num_workers=2,
                        generator=ember.Generator().manual_seed(12)))
    assert other[0]["seed"].tolist() != b0["seed"]


def test_worker_seeds_follow_the_global_rng():
    ember.manual_seed(5)
    a = list(loader(WhoAmI(), batch_size=8, num_workers=1))[0]["numpy"].tolist()
    ember.manual_seed(5)
    b = list(loader(WhoAmI(), batch_size=8, num_workers=1))[0]["numpy"].tolist()
    assert a == b


def test_numpy_seed_state_matches_torch_scheme():
    from torch.utils.data._utils.worker import _generate_state as t_state
    from ember.utils.data._utils.worker import _generate_state as e_state
    for base, wid in ((0, 0), (12345678901234, 3), ((1 << 63) - 1, 7)):
        assert e_state(base, wid) == t_state(base, wid)


# -------------------------------------------------------------- pin memory
@pytest.mark.parametrize("num_workers", [0, 2])
def test_pin_memory_hook_with_an_accelerator(monkeypatch, num_workers):
    """With an accelerator every tensor of every batch goes through
    ``Tensor.pin_memory`` (in a thread of the main process with workers)."""
    pinned = []

    def pin_memory(self):
        pinned.append(tuple(self.shape))
        return self

    monkeypatch.setattr(ember.cuda, "is_available", lambda: True)
    monkeypatch.setattr(ember.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(ember.cuda, "set_device", lambda device: None)
    monkeypatch.setattr(ember.Tensor, "pin_memory", pin_memory)
    kw = {"timeout": GUARD} if num_workers else {}
    got = list(eud.DataLoader(Samples(5), batch_size=2, pin_memory=True,
                              num_workers=num_workers, **kw))
    assert_same_batches(got, eud.DataLoader(Samples(5), batch_size=2))
    # per batch: img, arr, label, w, pair.a, pair.b
    assert len(pinned) == 3 * 6 and pinned[0] == (2, 2, 3)
    del got
    assert no_children()


def test_interpreter_exit_with_live_workers_is_clean(tmp_path):
    """A loader with persistent workers and large batches in flight, left
    alive at exit: the program ends promptly and leaves no segment behind."""
    import subprocess
    import sys
    script = tmp_path / "prog.py"
    script.write_text(
        "import os, ember, ember.utils.data as eud\n"
        "ds = eud.TensorDataset(ember.zeros(64, 3, 128, 128))\n"
        "ld = eud.DataLoader(ds, batch_size=8, num_workers=2, persistent_workers=True)\n"
        "it = iter(ld); next(it)\n"
        "import time; time.sleep(0.3)  # let the workers fill the queue\n"
        "print(os.getpid(), [w.pid for w in it._workers], flush=True)\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0, out.stderr
    pid = out.stdout.split()[0]
    if os.path.isdir("/dev/shm"):
        assert [n for n in os.listdir("/dev/shm") if n.startswith(f"emdl{pid}_")] == []
    assert "leaked" not in out.stderr and "Error" not in out.stderr
