"""Printing tensors exactly as torch prints them (precision, scientific
switch, summarisation with ``...``, suffixes such as ``dtype=``)."""
import math
from dataclasses import dataclass

import numpy as np

from . import _backend as B


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    if profile == "default":
        PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, 1000
        PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
    elif profile == "short":
        PRINT_OPTS.precision, PRINT_OPTS.threshold = 2, 1000
        PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 80
    elif profile == "full":
        PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, math.inf
        PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    return dict(vars(PRINT_OPTS))


class _Formatter:
    """Chooses integer, fixed or scientific notation and a common width."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        p = PRINT_OPTS.precision
        if not floating:
            for v in values.reshape(-1).tolist():
                self.max_width = max(self.max_width, len(str(v)))
        else:
            finite = values[np.isfinite(values) & (values != 0)]
            if finite.size:
                a = np.abs(finite).astype(np.float64)
                lo, hi = a.min(), a.max()
                vals = finite.tolist()
                self.int_mode = bool(np.all(finite == np.ceil(finite)))
                if self.int_mode:
                    if hi / lo > 1000.0 or hi > 1.0e8:
                        self.sci_mode = True
                        self.max_width = max(len(f"{v:.{p}e}") for v in vals)
                    else:
                        self.max_width = max(len(f"{v:.0f}") + 1 for v in vals)
                else:
                    if hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4:
                        self.sci_mode = True
                        self.max_width = max(len(f"{v:.{p}e}") for v in vals)
                    else:
                        self.max_width = max(len(f"{v:.{p}f}") for v in vals)
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode

    def format(self, v):
        p = PRINT_OPTS.precision
        if self.floating:
            if self.sci_mode:
                s = f"{v:{self.max_width}.{p}e}"
            elif self.int_mode:
                s = f"{v:.0f}"
                if not (math.isinf(v) or math.isnan(v)):
                    s += "."
            else:
                s = f"{v:.{p}f}"
        else:
            s = str(v)
        return (self.max_width - len(s)) * " " + s


class _ComplexFormatter:
    """Real and imaginary parts each with their own formatter, as torch does."""

    def __init__(self, re, im):
        self.re, self.im = re, im
        self.max_width = re.max_width + im.max_width + 1

    def format(self, v):
        r = self.re.format(v.real)
        i = (self.im.format(v.imag) + "j").lstrip()
        return r + i if i[0] in "+-" else r + "+" + i


def _summarized(a):
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate([a[:e], a[-e:]]) if a.shape[0] > 2 * e else a
    if a.shape[0] > 2 * e:
        rows = [a[i] for i in range(e)] + [a[i] for i in range(a.shape[0] - e, a.shape[0])]
    else:
        rows = list(a)
    return np.stack([_summarized(r) for r in rows])


def _vector_str(a, indent, summarize, fmt):
    e = PRINT_OPTS.edgeitems
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / (fmt.max_width + 2))))
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = [fmt.format(v) for v in a[:e].tolist()] + [" ..."] + \
               [fmt.format(v) for v in a[-e:].tolist()]
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _str_with_formatter(a, indent, summarize, fmt):
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * e:
        rows = [_str_with_formatter(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."] + \
               [_str_with_formatter(a[i], indent + 1, summarize, fmt) for i in range(n - e, n)]
    else:
        rows = [_str_with_formatter(a[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _tensor_str(a, indent):
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    src = _summarized(a) if summarize else a
    if a.dtype.kind == "c":
        fmt = _ComplexFormatter(_Formatter(src.real, True), _Formatter(src.imag, True))
    else:
        fmt = _Formatter(src, a.dtype.kind == "f")
    return _str_with_formatter(a, indent, summarize, fmt)


def _add_suffixes(s, suffixes, indent):
    parts = [s]
    last = len(s) - s.rfind("\n") + 1
    for suf in suffixes:
        if last + len(suf) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suf)
            last = indent + len(suf)
        else:
            parts.append(", " + suf)
            last += len(suf) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t):
    from ._tensor import Tensor
    plain = type(t) is Tensor or type(t).__name__ == "Parameter"
    prefix = "tensor(" if plain else type(t).__name__ + "("
    indent = len(prefix)
    a = B.move_array(t._data, B.CPU)
    suffixes = []
    if type(t._data) is not np.ndarray:
        suffixes.append(f"device='{t.device}'")
    dt = t.dtype
    default = B.get_default_dtype()
    default_complex = B.complex128 if default is B.float64 else B.complex64
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append("size=" + str(tuple(a.shape)))
        if dt is not default:
            suffixes.append("dtype=" + repr(dt))
        body = "[]"
    else:
        if dt not in (default, default_complex, B.int64, B.bool_):
            suffixes.append("dtype=" + repr(dt))
        body = _tensor_str(a, indent)
    if t._grad_fn is not None:
        suffixes.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
