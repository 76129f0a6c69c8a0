"""Ember against PyTorch on a CUDA GPU (issue 8): W1 MLP, W2 CNN, W6 LSTM LM
and W7 ResNet-ish, each at batch 64 and 1024, in one run.

Both libraries train the same model from the same NumPy weights and data on
``cuda``, and every step ends with a device synchronize, so a step's time is
the GPU's. The first steps (which also compile CuPy's kernels into its cache)
are checked against torch's; after warm-up the libraries take turns as in
``run.py``. Torch takes part when it has CUDA.

    python benchmarks/gpu.py [--quick] [--batches 64,1024] [--json out.json] [--readme]
"""
import argparse
import datetime
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_lstm  # noqa: E402
import run  # noqa: E402
import workloads as W  # noqa: E402

START, END = "<!-- gpu-benchmarks:start -->", "<!-- gpu-benchmarks:end -->"

# name: (model builder, data(batch) -> (x, y), SGD lr, momentum)
MODELS = {
    "W1 MLP": (W.mlp, W.mlp_data, 0.01, 0.5),
    "W2 CNN": (W.cnn, W.mlp_data, 0.01, 0.5),
    "W6 LSTM LM": (bench_lstm.lstm_lm, bench_lstm.lm_data, 1.0, 0.0),
    "W7 ResNet-ish": (W.resnet, W.resnet_data, 0.01, 0.9),
}


def gpu_step(lib, name, batch):
    """One synchronized SGD step of ``name`` at ``batch`` on ``cuda``."""
    make_model, data, lr, momentum = MODELS[name]
    model = make_model(lib).to("cuda")
    x, y = (lib.from_numpy(a).to("cuda") for a in data(batch))
    opt = lib.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    step = W.train_step(model, lib.nn.CrossEntropyLoss(), opt, x, y)

    def synced():
        loss = step()
        lib.cuda.synchronize()
        return loss
    return synced


def workload_list(batches):
    return [W.Workload(f"{name} b{b}", "gpu", f"{name} training step, batch {b}, on cuda",
                       lambda lib, quick=False, name=name, b=b: gpu_step(lib, name, b))
            for name in MODELS for b in batches]


def markdown(report):
    m = report["meta"]
    lines = [f"Measured {m['date']} on {m['gpu']}; ember {m['ember']} with CuPy {m['cupy']}, "
             f"torch {m['torch']}. Steps/s are medians (± half the interquartile range); "
             "ratios are step-time ratios (below 1: ember is faster).", "",
             "| workload | ember steps/s | torch steps/s | ember/torch |", "|---|---|---|---|"]
    for r in report["results"]:
        lines.append(f"| {r['name']} | {run.fmt_rate(r.get('ember'))} | "
                     f"{run.fmt_rate(r.get('torch'))} | {run.fmt_ratio(r.get('ember/torch'))} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two checked steps each (tests)")
    ap.add_argument("--batches", default="64,1024", help="comma-separated (default 64,1024)")
    ap.add_argument("--rounds", type=int, default=7, help="timed rounds (default 7)")
    ap.add_argument("--round-time", type=float, default=0.5,
                    help="seconds per library per round (default 0.5)")
    ap.add_argument("--warmup", type=int, default=5, help="warm-up steps (default 5)")
    ap.add_argument("--no-torch", action="store_true", help="ember only")
    ap.add_argument("--json", help="write the results to this file")
    ap.add_argument("--readme", action="store_true", help="rewrite the GPU table in README.md")
    args = ap.parse_args(argv)

    import ember
    if not ember.cuda.is_available():
        sys.exit("gpu.py: ember sees no CUDA device (install ember[cuda] on a GPU machine)")
    libs = {"ember": ember}
    torch = None
    if not args.no_torch:
        try:
            import torch
            if torch.cuda.is_available():
                libs["torch"] = torch
        except ImportError:
            torch = None
    meta = {"date": datetime.date.today().isoformat(), "gpu": ember.cuda.get_device_name(),
            "ember": ember.__version__, "cupy": __import__("cupy").__version__,
            "torch": torch.__version__ if "torch" in libs else None, "quick": args.quick}
    print(f"{meta['date']}  {meta['gpu']}  ember {meta['ember']}  cupy {meta['cupy']}  "
          f"torch {meta['torch']}")
    run.print_header()
    results = []
    for w in workload_list([int(b) for b in args.batches.split(",")]):
        res = run.run_workload(w, libs, args)
        run.print_row(res)
        results.append(res)
    report = {"meta": meta, "results": results}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    if args.readme:
        run.write_readme(markdown(report), START, END)
    return report


if __name__ == "__main__":
    main()
