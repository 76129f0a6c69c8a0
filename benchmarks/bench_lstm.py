"""Recurrent training speed, ember against PyTorch in one run: the LSTM
language model (Embedding(10000, 128) -> 2-layer LSTM(256) -> Linear(256,
10000), sequence 35, batch 20, CrossEntropy, SGD lr 1) and the seeds'
"hello" RNN (W6 of the suite: Embedding(4, 10), 2-layer RNN(8), batch 1,
sequence 5, Adam).

    python benchmarks/bench_lstm.py [--quick] [--threads 2] [--rounds 7]

Both libraries get the same weights and data and the same thread count
(default 2); after warm-up they take turns, and the medians and the
step-time ratio are printed (``run.py``'s measurement). ``workloads()``
hands the LSTM language model to ``run.py``'s suite.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

VOCAB, EMBED, HIDDEN, LAYERS, SEQ, BATCH = 10000, 128, 256, 2, 35, 20
LM = "W6 LSTM LM"


def lstm_lm(lib):
    nn = lib.nn

    class LanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, EMBED)
            self.lstm = nn.LSTM(EMBED, HIDDEN, LAYERS)
            self.decoder = nn.Linear(HIDDEN, VOCAB)

        def forward(self, x):  # x: (SEQ, BATCH) token ids
            out, _ = self.lstm(self.embedding(x))
            return self.decoder(out.reshape(-1, HIDDEN))

    from workloads import load_weights
    return load_weights(lib, LanguageModel())


def lm_data(batch=BATCH):
    """A fixed batch of token ids ``(SEQ, batch)`` and its ``SEQ * batch`` targets."""
    import numpy as np
    rng = np.random.default_rng(0)
    return rng.integers(0, VOCAB, (SEQ, batch)), rng.integers(0, VOCAB, SEQ * batch)


def lm_step(lib):
    """One SGD step of the language model on a fixed batch of token ids."""
    from workloads import train_step
    x, y = (lib.from_numpy(a) for a in lm_data())
    model = lstm_lm(lib)
    return train_step(model, lib.nn.CrossEntropyLoss(), lib.optim.SGD(model.parameters(), lr=1.0),
                      x, y)


def workloads():
    """``{name: (build_ember_step, build_torch_step)}`` for ``run.py``; the
    hello RNN is the suite's own W6."""
    def build(name):
        return lambda: lm_step(__import__(name))
    return {LM: (build("ember"), build("torch"))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a couple of steps each (CI)")
    ap.add_argument("--threads", type=int, default=2, help="BLAS/OpenMP threads (default 2)")
    ap.add_argument("--rounds", type=int, default=7, help="timed rounds (default 7)")
    ap.add_argument("--round-time", type=float, default=1.0,
                    help="seconds per library per round (default 1)")
    args = ap.parse_args(argv)
    import run
    report = run.main(["--only", f"{LM},W6 hello RNN", "--no-memory", "--no-floor",
                       "--threads", str(args.threads), "--rounds", str(args.rounds),
                       "--round-time", str(args.round_time)] + (["--quick"] if args.quick else []))
    for r in report["results"]:
        if "ember" in r and "torch" in r and "median_s" in r["ember"]:
            print(f"{r['name']}: ember {r['ember']['steps_per_s']:.3g} steps/s, torch "
                  f"{r['torch']['steps_per_s']:.3g} steps/s, ember/torch step time "
                  f"{r['ember/torch']:.2f}")
    return report


if __name__ == "__main__":
    main()
