"""The worker process loop of a multi-process DataLoader, and
``get_worker_info``."""
import os
import queue
import random
from dataclasses import dataclass

import numpy as np

import ember

from . import MP_STATUS_CHECK_INTERVAL, ExceptionWrapper, transport


class ManagerWatchdog:
    """Tells whether the process that started this worker is still alive: on
    POSIX an orphan is re-parented, so its parent pid changes."""

    def __init__(self):
        self.manager_pid = os.getppid()
        self.manager_dead = False

    def is_alive(self):
        if not self.manager_dead:
            self.manager_dead = os.getppid() != self.manager_pid
        return not self.manager_dead


_worker_info = None


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What a DataLoader worker knows about itself: ``id`` (0 to
    ``num_workers - 1``), ``num_workers``, ``seed`` (base seed + id, already
    used to seed ``random``, ember and NumPy) and ``dataset`` (this process's
    copy)."""

    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = "multiprocessing"


def get_worker_info():
    """The current worker's WorkerInfo inside a DataLoader worker process,
    ``None`` in the main process. Use it in an IterableDataset's ``__iter__``
    or in ``worker_init_fn`` to give each worker its own share of the data."""
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's iterable dataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Start a new epoch (persistent workers)."""

    seed: object = None


def _generate_state(base_seed, worker_id):
    """Four 32-bit words to seed NumPy's global RNG of a worker: the
    SeedSequence hash of (worker_id, base_seed) (torch's scheme, adapted from
    numpy.random.SeedSequence, MIT licence: Copyright (c) 2015 Melissa E.
    O'Neill, (c) 2019 NumPy Developers), so NumPy streams of the workers do
    not coincide with each other or with the ``random`` module's."""
    INIT_A, MULT_A = 0x43B0D7E5, 0x931E8875
    INIT_B, MULT_B = 0x8B51F9DD, 0x58F38DED
    MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715
    XSHIFT = 4 * 8 // 2
    MASK32 = 0xFFFFFFFF

    entropy = [worker_id, base_seed & MASK32, base_seed >> 32, 0]
    pool = [0] * 4
    hash_const_A = INIT_A

    def hash(value):
        nonlocal hash_const_A
        value = (value ^ hash_const_A) & MASK32
        hash_const_A = (hash_const_A * MULT_A) & MASK32
        value = (value * hash_const_A) & MASK32
        return (value ^ (value >> XSHIFT)) & MASK32

    def mix(x, y):
        result = ((MIX_MULT_L * x) & MASK32) - ((MIX_MULT_R * y) & MASK32)
        result &= MASK32
        return (result ^ (result >> XSHIFT)) & MASK32

    for i in range(len(pool)):
        pool[i] = hash(entropy[i])
    for i_src in range(len(pool)):
        for i_dst in range(len(pool)):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash(pool[i_src]))

    hash_const_B = INIT_B
    state = []
    for i_dst in range(4):
        data_val = (pool[i_dst] ^ hash_const_B) & MASK32
        hash_const_B = (hash_const_B * MULT_B) & MASK32
        data_val = (data_val * hash_const_B) & MASK32
        state.append((data_val ^ (data_val >> XSHIFT)) & MASK32)
    return state


def _worker_loop(dataset_kind, dataset, index_queue, data_queue, done_event, auto_collation,
                 collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers):
    """Serve ``(send_idx, indices)`` tasks from ``index_queue`` until a
    ``None`` arrives, answering ``(send_idx, batch)`` (or an ExceptionWrapper)
    on ``data_queue``. See DataLoader's notes on shutdown."""
    from ..dataloader import _DatasetKind

    watchdog = ManagerWatchdog()
    try:
        ember.set_num_threads(1)
        seed = base_seed + worker_id
        random.seed(seed)
        ember.manual_seed(seed)
        np.random.seed(_generate_state(base_seed, worker_id))

        global _worker_info
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)

        init_exception = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation,
                                                  collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")

        # An iterable dataset may run out in one worker before the others: the
        # worker then says so once and waits for its None.
        iteration_end = False
        while watchdog.is_alive():
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(r, _ResumeIteration):
                data_queue.put((r, None))  # acknowledge
                iteration_end = False
                fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation,
                                                      collate_fn, drop_last)
                continue
            if r is None:  # the final signal
                assert done_event.is_set() or iteration_end
                break
            if done_event.is_set() or iteration_end:
                continue  # shutting down: skip work until the None arrives
            idx, index = r
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    data = transport.pack(fetcher.fetch(index), watchdog.manager_pid)
                except StopIteration:
                    if dataset_kind != _DatasetKind.Iterable:
                        data = ExceptionWrapper(
                            where=f"in DataLoader worker process {worker_id}")
                    else:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                except Exception:
                    data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            data_queue.put((idx, data))
            del data, idx, index, r  # do not hold the batch while waiting
    except KeyboardInterrupt:
        pass  # the main process raises it
    if done_event.is_set() or not watchdog.is_alive():
        # Nobody will read what is still buffered: do not wait to flush it.
        data_queue.cancel_join_thread()
        data_queue.close()
    if not watchdog.is_alive():
        transport.unlink_leftovers(watchdog.manager_pid, os.getpid())
