"""Ember against PyTorch on the workloads of issue 7, in one run.

Each workload (``workloads.py``) is built in ember and in torch (when
installed) from the same NumPy data and weights, plus its hand-written NumPy
floor (``floors.py``) where one exists. After warm-up the implementations
take turns: each round times a batch of steps of each (the order alternates
between rounds), so a busy machine slows all alike. Reported per
implementation: median steps/s and the spread (half the interquartile range
of the rounds, in % of the median); then the step-time ratios ember/torch
and ember/floor (below 1: ember is faster). Both libraries run with the same
BLAS/OpenMP thread count. A full run also measures peak memory per workload
and import times in fresh processes (``memory.py``).

    python benchmarks/run.py [--quick] [--only W1,W2] [--threads 2] [--json out.json]
                             [--no-memory] [--readme]
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import floors  # noqa: E402
import memory  # noqa: E402
import workloads  # noqa: E402

README = os.path.join(os.path.dirname(HERE), "README.md")
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure(steps, rounds, round_s, warmup):
    """Seconds per step of each callable in ``steps``, one entry per round."""
    for fn in steps.values():
        for _ in range(warmup):
            fn()
    n = {}
    for k, fn in steps.items():
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        n[k] = max(1, int(round_s / max(dt, 1e-7)))
    times = {k: [] for k in steps}
    for r in range(rounds):
        for k in (list(steps) if r % 2 == 0 else list(reversed(steps))):
            fn, m = steps[k], n[k]
            t = time.perf_counter()
            for _ in range(m):
                fn()
            times[k].append((time.perf_counter() - t) / m)
    return times


def summary(ts):
    q = statistics.quantiles(ts, n=4) if len(ts) > 1 else [ts[0]] * 3
    med = statistics.median(ts)
    return {"median_s": med, "steps_per_s": 1 / med, "spread_pct": 50 * (q[2] - q[0]) / med,
            "rounds": len(ts)}


def first_steps(make, k=2):
    """Build a step and run it ``k`` times: (step, results as arrays, seconds
    per step) or (None, error, None)."""
    outs, times = [], []
    try:
        fn = make()
        for _ in range(k):
            t = time.perf_counter()
            outs.append(fn())
            times.append(time.perf_counter() - t)
    except Exception as e:  # a layer the library lacks: reported, not fatal
        return None, f"{type(e).__name__}: {e}", None
    return fn, [np.asarray(o.detach().cpu() if hasattr(o, "detach") else o, dtype=np.float64)
                for o in outs], times


def rel_diff(a, b):
    """Largest difference between two step results, relative to ``b``'s scale."""
    if a.shape != b.shape:
        return float("inf")
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30)) if a.size else 0.0


def run_workload(w, libs, args):
    res = {"name": w.name, "group": w.group, "desc": w.desc}
    steps, outs, first = {}, {}, {}
    makers = {label: (lambda lib=lib: w.build(lib, args.quick)) for label, lib in libs.items()}
    if w.floor and not args.no_floor:
        makers["floor"] = lambda: floors.FLOORS[w.floor]().step
    for label, make in makers.items():
        fn, out, first[label] = first_steps(make)
        if fn is None:
            res[label] = {"error": out}
        else:
            steps[label], outs[label] = fn, out
    # the first two steps of ember and the floor must compute what torch computes
    ref = outs.get("torch")
    if ref is not None and w.compare:
        res["first_steps_rel_diff"] = {k: max(map(rel_diff, v, ref))
                                       for k, v in outs.items() if k != "torch"}
    if args.quick:  # the two checked steps are the two rounds
        times = {label: first[label] for label in steps}
    else:
        try:
            times = measure(steps, args.rounds, args.round_time, args.warmup)
        except Exception as e:
            res["error"] = f"{type(e).__name__}: {e}"
            return res
    for label, ts in times.items():
        res[label] = summary(ts)
    e = res.get("ember", {}).get("median_s")
    for other in ("torch", "floor"):
        o = res.get(other, {}).get("median_s")
        if e and o:
            res[f"ember/{other}"] = e / o
    return res


def fmt_rate(r):
    if not r or "median_s" not in r:
        return "—"
    return f"{r['steps_per_s']:.4g} ±{r['spread_pct']:.0f}%"


def fmt_mem(m):
    return f"{m['peak_mib']:.0f} ({m['workload_mib']:.0f})" if m and "peak_mib" in m else "—"


def fmt_ratio(x):
    return f"{x:.2f}" if x else "—"


def print_header():
    print(f"{'workload':<26} {'ember steps/s':>16} {'torch steps/s':>16} {'e/t time':>8} "
          f"{'floor steps/s':>16} {'e/floor':>8}")


def print_row(res):
    if "error" in res:
        print(f"{res['name']:<26} error: {res['error']}")
        return
    print(f"{res['name']:<26} {fmt_rate(res.get('ember')):>16} {fmt_rate(res.get('torch')):>16} "
          f"{fmt_ratio(res.get('ember/torch')):>8} {fmt_rate(res.get('floor')):>16} "
          f"{fmt_ratio(res.get('ember/floor')):>8}")
    for label in ("ember", "torch", "floor"):
        if "error" in res.get(label, {}):
            print(f"{'':<26} {label} unavailable: {res[label]['error']}")
    for label, d in res.get("first_steps_rel_diff", {}).items():
        if not d <= 1e-3:
            print(f"{'':<26} {label}'s first steps differ from torch's: relative {d:.2e}")


def markdown(report):
    m = report["meta"]
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['cpus']} CPUs), {m['threads']} threads; "
        f"Python {m['python']}, NumPy {m['numpy']} ({m['blas']}), ember {m['ember']}, "
        f"torch {m['torch']}.",
        "Steps/s are medians (± half the interquartile range over the rounds); ratios are "
        "step-time ratios (below 1: ember is faster). Memory: peak resident set of a fresh "
        "process running the workload, and in brackets its rise over the resident set after "
        "`import`.",
        "",
        "| workload | ember steps/s | torch steps/s | ember/torch | NumPy floor steps/s | "
        "ember/floor | peak MiB ember (rise) | torch (rise) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    mem = report.get("memory", {})
    for r in report["results"]:
        m = mem.get(r["name"], {})
        me, mt = fmt_mem(m.get("ember")), fmt_mem(m.get("torch"))
        lines.append(f"| {r['name']} | {fmt_rate(r.get('ember'))} | {fmt_rate(r.get('torch'))} "
                     f"| {fmt_ratio(r.get('ember/torch'))} | {fmt_rate(r.get('floor'))} "
                     f"| {fmt_ratio(r.get('ember/floor'))} | {me} | {mt} |")
    imp = report.get("import_s", {})
    if imp:
        lines += ["", f"`import ember`: {imp.get('ember', float('nan')):.2f} s; "
                      f"`import torch`: {imp.get('torch') or float('nan'):.2f} s "
                      "(median of fresh interpreters, bytecode cached)."]
    return "\n".join(lines)


def write_readme(table, start=START, end=END):
    """Put ``table`` (markdown) in README.md between the ``start`` and ``end`` markers."""
    with open(README) as f:
        text = f.read()
    a, b = text.index(start) + len(start), text.index(end)
    with open(README, "w") as f:
        f.write(text[:a] + "\n" + table + "\n" + text[b:])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="every workload for a few steps, to check the benchmark code (CI)")
    ap.add_argument("--only", help="comma-separated workload name prefixes, e.g. W1,W2")
    ap.add_argument("--threads", type=int, default=2, help="BLAS/OpenMP threads (default 2)")
    ap.add_argument("--json", help="write the results to this file")
    ap.add_argument("--rounds", type=int, default=7, help="timed rounds (default 7; "
                    "--quick times the two checked first steps)")
    ap.add_argument("--round-time", type=float, default=0.2,
                    help="seconds per implementation per round (default 0.2)")
    ap.add_argument("--warmup", type=int, default=3,
                    help="warm-up steps after the two checked first steps (default 3)")
    ap.add_argument("--no-torch", action="store_true", help="ember (and floors) only")
    ap.add_argument("--no-floor", action="store_true", help="skip the NumPy floors")
    ap.add_argument("--memory", action=argparse.BooleanOptionalAction, default=None,
                    help="peak memory and import time in fresh processes (default: on, "
                    "off with --quick)")
    ap.add_argument("--readme", action="store_true",
                    help="rewrite the results table in README.md")
    args = ap.parse_args(argv)
    if args.memory is None:
        args.memory = not args.quick

    import ember
    libs = {"ember": ember}
    torch = None
    if not args.no_torch:
        try:
            import torch
            libs["torch"] = torch
        except ImportError:
            pass
    for lib in libs.values():
        lib.set_num_threads(args.threads)
    from threadpoolctl import threadpool_info
    blas = next((f"{i['internal_api']} {i['version']}" for i in threadpool_info()
                 if i["user_api"] == "blas" and "numpy" in i["filepath"]), "?")
    meta = {"date": datetime.date.today().isoformat(), "cpu": cpu_model(),
            "cpus": os.cpu_count(), "threads": args.threads,
            "python": platform.python_version(), "numpy": np.__version__, "blas": blas,
            "ember": ember.__version__, "torch": torch.__version__ if torch else None,
            "quick": args.quick}
    print(f"{meta['date']}  {meta['cpu']}  threads={args.threads}  python {meta['python']}  "
          f"numpy {meta['numpy']}  ember {meta['ember']}  torch {meta['torch']}")
    print_header()
    names = [n for n in workloads.WORKLOADS
             if not args.only or any(n.startswith(p.strip()) for p in args.only.split(","))]
    results = []
    for name in names:
        res = run_workload(workloads.WORKLOADS[name], libs, args)
        print_row(res)
        results.append(res)
    report = {"meta": meta, "results": results}

    if args.memory:
        report["import_s"] = {label: memory.import_time(label) for label in libs}
        print("import: " + ", ".join(f"{k} {v:.3f} s" for k, v in report["import_s"].items()
                                     if v is not None))
        report["memory"] = {}
        print(f"{'peak memory, MiB (rise)':<26} {'ember':>16} {'torch':>16} {'ratio':>8}")
        for name in names:
            m = report["memory"][name] = {label: memory.peak_memory(name, label, 3, args.threads)
                                          for label in libs}
            e, t = m.get("ember", {}), m.get("torch", {})
            ratio = e["peak_mib"] / t["peak_mib"] if "peak_mib" in e and "peak_mib" in t else None
            print(f"{name:<26} {fmt_mem(e):>16} {fmt_mem(t):>16} {fmt_ratio(ratio):>8}")
            for label, r in m.items():
                if "error" in r:
                    print(f"{'':<26} {label} failed: {r['error']}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    if args.readme:
        write_readme(markdown(report))
    return report


if __name__ == "__main__":
    main()
