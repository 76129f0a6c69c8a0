"""DataLoader throughput, ember vs PyTorch in the same run.

MNIST-shaped data: 60000 28x28 uint8 images in memory; the dataset returns
``(image, label)`` with the image converted as ``ToTensor()`` +
``Normalize((0.1307,), (0.3081,))`` would (1x28x28 float32), written with the
library's own tensor ops. One epoch of batches of 64 (shuffled) at
num_workers 0 and 2, worker start-up included; ember and torch alternate and
the best of ``--repeat`` runs counts (the machine may be shared). Prints
samples/s and the ember/torch ratio.

    python benchmarks/bench_dataloader.py [--quick] [--batches N] [--repeat R]
"""
import argparse
import time

import numpy as np


def make_dataset(lib, images, labels):
    base = lib.utils.data.Dataset

    class MNISTLike(base):
        def __len__(self):
            return len(images)

        def __getitem__(self, i):
            img = lib.from_numpy(images[i]).unsqueeze(0).float().div(255)  # ToTensor
            return (img - 0.1307) / 0.3081, int(labels[i])  # Normalize

    return MNISTLike()


def run(lib, images, labels, num_workers, batches, batch_size):
    lib.manual_seed(0)
    loader = lib.utils.data.DataLoader(make_dataset(lib, images, labels), batch_size=batch_size,
                                       shuffle=True, num_workers=num_workers)
    n = 0
    t = time.perf_counter()
    for i, (x, y) in enumerate(loader):
        assert x.shape[1:] == (1, 28, 28) and x.dtype == lib.float32
        n += len(y)
        if i + 1 == batches:
            break
    return n / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few batches only (CI)")
    ap.add_argument("--batches", type=int, default=None, help="batches per measurement "
                    "(default: one epoch, 938)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=None, help="runs per measurement, best "
                    "counts (default 3, 1 with --quick)")
    args = ap.parse_args()
    batches = args.batches or (5 if args.quick else None)
    repeat = args.repeat or (1 if args.quick else 3)

    import ember
    try:
        import torch
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 60000).astype(np.int64)

    print(f"{'num_workers':>11} {'ember samples/s':>16} {'torch samples/s':>16} {'ember/torch':>12}")
    for nw in (0, 2):
        e, t = [], []
        for _ in range(repeat):  # alternate, so both see the same load
            e.append(run(ember, images, labels, nw, batches, args.batch_size))
            if torch:
                t.append(run(torch, images, labels, nw, batches, args.batch_size))
        e, t = max(e), max(t, default=float("nan"))
        print(f"{nw:>11} {e:>16.0f} {t:>16.0f} {e / t:>12.2f}")


if __name__ == "__main__":
    main()
