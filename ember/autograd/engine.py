"""The backward engine: an iterative walk of the graph in dependency order.

1. Count, for every node reachable from the roots, how many edges lead into
   it (no recursion, so 10,000-op chains are fine).
2. Run a node once all gradients for its outputs have arrived; add what it
   returns into the buffers of the nodes it points to.
3. Saved tensors are released after a node runs unless ``retain_graph``.
"""
import warnings

from . import anomaly_mode, grad_mode
from .graph import AccumulateGrad


def _collect(roots):
    """Dependency counts of every node reachable from ``roots``."""
    deps = {}
    seen = set()
    stack = [r for r in roots if r is not None]
    for r in stack:
        seen.add(r)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return deps, seen


def _needed(seen, targets):
    """Nodes from which some target is reachable, targets included."""
    need = set(targets)
    # iterate to a fixed point in reverse-topological order
    order = _topo(seen)
    for node in reversed(order):
        if node in need:
            continue
        for nxt, _ in node.next_functions:
            if nxt in need:
                need.add(node)
                break
    return need


def _topo(nodes):
    """Nodes in an order where each precedes the nodes it points to."""
    indeg = {n: 0 for n in nodes}
    for n in nodes:
        for nxt, _ in n.next_functions:
            if nxt is not None and nxt in indeg:
                indeg[nxt] += 1
    ready = [n for n, d in indeg.items() if d == 0]
    order = []
    while ready:
        n = ready.pop()
        order.append(n)
        for nxt, _ in n.next_functions:
            if nxt is not None and nxt in indeg:
                indeg[nxt] -= 1
                if indeg[nxt] == 0:
                    ready.append(nxt)
    return order


def _accumulate(buf, idx, g):
    old = buf[idx]
    buf[idx] = g if old is None else old + g


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None,
                 allow_unused=True, accumulate_into_grad=True):
    """Backpropagate from ``tensors``. With ``accumulate_into_grad=False``
    (``autograd.grad``) return the gradients of ``inputs`` instead."""
    roots = []
    for t, g in zip(tensors, grad_tensors):
        if t._grad_fn is None and not t._rg:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        roots.append((t._grad_fn if t._grad_fn is not None else t._grad_accumulator(),
                      t._output_nr, g))
    root_nodes = [r[0] for r in roots]
    deps, seen = _collect(root_nodes)

    # capture points: (node, output_nr) -> index into inputs
    capture = {}
    if inputs is not None:
        for i, t in enumerate(inputs):
            if t._grad_fn is not None:
                key = (t._grad_fn, t._output_nr)
            elif t._rg:
                key = (t._grad_accumulator(), 0)
            else:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            capture.setdefault(key, []).append(i)
        reach = _needed(seen, {k[0] for k in capture})
        need = {n for n in seen if any(nx in reach for nx, _ in n.next_functions)}
    else:
        need = None
    results = [None] * (len(inputs) if inputs is not None else 0)

    buffers = {}
    for node, nr, g in roots:
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.num_outputs
        _accumulate(buf, nr, g)

    # user-supplied gradients (and the arrays they view) must not become some
    # leaf's .grad uncopied
    shared = {id(a) for _, _, g in roots for a in (g._data, g._data.base) if a is not None}
    ready = [n for n in dict.fromkeys(root_nodes) if deps.get(n, 0) == 0]
    prev_mode = grad_mode._state[0]
    grad_mode._state[0] = bool(create_graph)
    anomaly = anomaly_mode._enabled[0]
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            if node._pre_hooks is not None or node._retained is not None or capture:
                grads = _observe(node, grads, capture, results, create_graph, shared)
            if type(node) is AccumulateGrad:
                if accumulate_into_grad and (inputs is None or (node, 0) in capture):
                    g = grads[0]
                    if g is not None:
                        node.variable._accumulate_leaf_grad(g, create_graph, shared)
                continue
            if need is not None and node not in need:
                continue
            if node.num_outputs == 1:
                g0 = grads[0]
                in_grads = (None,) * len(node.next_functions) if g0 is None else node.backward(g0)
            elif all(g is None for g in grads):
                in_grads = (None,) * len(node.next_functions)
            else:
                in_grads = node.backward(*grads)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if anomaly:
                _check_nan(node, in_grads)
            if node._hooks:
                for hook in node._hooks:
                    r = hook(in_grads, tuple(grads))
                    if r is not None:
                        in_grads = tuple(r)
            if not retain_graph and node._saved is not None:
                node.release()
            for (nxt, nr), g in zip(node.next_functions, in_grads):
                if nxt is None:
                    continue
                buf = buffers.get(nxt)
                if buf is None:
                    buf = buffers[nxt] = [None] * nxt.num_outputs
                if g is not None:
                    old = buf[nr]
                    buf[nr] = g if old is None else old + g
                d = deps[nxt] - 1
                deps[nxt] = d
                if d == 0:
                    ready.append(nxt)
    finally:
        grad_mode._state[0] = prev_mode
    if inputs is not None:
        for i, r in enumerate(results):
            if r is None and not allow_unused and not accumulate_into_grad:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior.")
        return results
    return None


def _observe(node, grads, capture, results, create_graph, shared):
    """Tensor hooks, retain_grad and autograd.grad's capture points of a node."""
    if node._pre_hooks:
        grads = _run_pre_hooks(node, grads)
    if node._retained:
        for nr, ref in list(node._retained.items()):
            t = ref()
            if t is not None and grads[nr] is not None:
                t._add_grad(grads[nr] if create_graph else grads[nr].detach(), shared)
    if capture:
        for nr in range(len(grads)):
            for i in capture.get((node, nr), ()):
                g = grads[nr]
                if g is None:
                    continue
                if type(node) is AccumulateGrad and node.variable._hooks:
                    for hook in node.variable._hooks:
                        r = hook(g)
                        if r is not None:
                            g = r
                results[i] = g
    return grads


def _run_pre_hooks(node, grads):
    grads = list(grads)
    for nr, fn in list(node._pre_hooks):
        if nr is None:  # node-level prehook
            r = fn(tuple(grads))
            if r is not None:
                grads = list(r)
        elif grads[nr] is not None:
            r = fn(grads[nr])
            if r is not None:
                grads[nr] = r
    return grads


def _check_nan(node, out):
    for i, g in enumerate(out):
        if g is not None and g.dtype.is_floating_point and bool(g.isnan().any()):
            if node._trace:
                warnings.warn(
                    f"Error detected in {node.name()}. Traceback of forward call that caused "
                    "the error:\n" + "".join(node._trace), RuntimeWarning, stacklevel=3)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
