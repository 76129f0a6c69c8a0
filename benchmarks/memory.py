"""Peak memory per workload and import time, ember against torch.

Each measurement runs in a fresh interpreter that imports only the library
measured: it builds the workload, runs its steps, and reports the resident
set high-water mark (``VmHWM``; not ``ru_maxrss``, which a child inherits
from the parent that forked it) and its rise over the resident set just
after the import (what the workload itself needs: data, model, activations,
optimizer state). ``import`` time is the median of fresh interpreters after
one discarded run (which writes the bytecode caches, as an installed package
has them).

    python benchmarks/memory.py [--only W1,W2] [--steps N]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _status_kib(field):
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _child(name, libname, steps, threads):
    import importlib
    lib = importlib.import_module(libname)
    lib.set_num_threads(threads)
    base = _status_kib("VmRSS")
    import workloads
    step = workloads.WORKLOADS[name].build(lib)
    for _ in range(steps):
        step()
    peak = _status_kib("VmHWM")
    print(json.dumps({"peak_mib": peak / 1024, "workload_mib": (peak - base) / 1024}))


def _env():
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [HERE, env.get("PYTHONPATH")]))
    return env


def peak_memory(name, libname, steps=3, threads=2):
    """{"peak_mib", "workload_mib"} of ``steps`` steps in a fresh process, or {"error"}."""
    r = subprocess.run([sys.executable, os.path.join(HERE, "memory.py"), "--child", name,
                        libname, str(steps), str(threads)],
                       capture_output=True, text=True, env=_env())
    if r.returncode:
        return {"error": (r.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def import_time(libname, repeat=5):
    """Median seconds of ``import libname`` in fresh interpreters (first run discarded)."""
    code = (f"import time; t = time.perf_counter(); import {libname}; "
            f"print(time.perf_counter() - t)")
    times = []
    for _ in range(repeat + 1):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=_env())
        if r.returncode:
            return None
        times.append(float(r.stdout))
    return statistics.median(times[1:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--only", help="comma-separated workload name prefixes")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if args.child:
        name, libname, steps, threads = args.child
        return _child(name, libname, int(steps), int(threads))
    import workloads
    names = [n for n in workloads.WORKLOADS
             if not args.only or any(n.startswith(p) for p in args.only.split(","))]
    print(f"import ember {import_time('ember'):.3f} s, import torch "
          f"{import_time('torch') or float('nan'):.3f} s")
    print(f"{'workload':<28} {'peak MiB ember':>15} {'torch':>8} {'rise MiB ember':>15} {'torch':>8}")
    for n in names:
        e, t = (peak_memory(n, lib, args.steps, args.threads) for lib in ("ember", "torch"))
        nan = float("nan")
        print(f"{n:<28} {e.get('peak_mib', nan):>15.1f} {t.get('peak_mib', nan):>8.1f} "
              f"{e.get('workload_mib', nan):>15.1f} {t.get('workload_mib', nan):>8.1f}")


if __name__ == "__main__":
    main()
