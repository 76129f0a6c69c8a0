"""A model's graph for TensorBoard's Graphs tab, read from the autograd
graph of one forward pass (ember has no tracer): one node per ``grad_fn``,
grouped under the module whose output it produced, with parameters and
inputs as leaves."""
from ... import autograd
from ..._tensor import Tensor


def _tensors(x):
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, (tuple, list)):
        return [t for v in x for t in _tensors(v)]
    if isinstance(x, dict):
        return [t for v in x.values() for t in _tensors(v)]
    return []


def graph(model, input_to_model, verbose=False):
    """A ``GraphDef`` of ``model(*input_to_model)``."""
    from tensorboardX.proto.attr_value_pb2 import AttrValue
    from tensorboardX.proto.graph_pb2 import GraphDef
    from tensorboardX.proto.node_def_pb2 import NodeDef
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboardX.proto.versions_pb2 import VersionDef

    args = input_to_model if isinstance(input_to_model, (tuple, list)) else \
        () if input_to_model is None else (input_to_model,)
    # float inputs become leaves so that they show up as the graph's inputs
    args = tuple(a.detach().requires_grad_() if isinstance(a, Tensor) and a.is_floating_point()
                 else a for a in args)
    leaf_names = {id(a): f"input/input.{i}" for i, a in enumerate(args) if isinstance(a, Tensor)}
    for name, p in model.named_parameters():
        leaf_names[id(p)] = name.replace(".", "/")
    scopes, handles = {}, []
    for name, m in model.named_modules():
        if name:
            def record(mod, inp, out, name=name):
                for t in _tensors(out):   # inner modules finish first: they keep the node
                    if t.grad_fn is not None:
                        scopes.setdefault(id(t.grad_fn), name.replace(".", "/"))
            handles.append(m.register_forward_hook(record))
    try:
        with autograd.enable_grad():
            outputs = _tensors(model(*args))
    finally:
        for h in handles:
            h.remove()

    def shape_attr(t):
        shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=s) for s in t.shape])
        return {"_output_shapes": AttrValue(list=AttrValue.ListValue(shape=[shape])),
                "dtype": AttrValue(s=str(t.dtype).encode())}

    nodes, names, used = [], {}, set()

    param_scope = {}   # id(AccumulateGrad of a parameter) -> its module's scope

    def unique(base):
        name, k = base, 1
        while name in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name)
        return name

    def name_of(fn):
        if id(fn) in names:
            return names[id(fn)]
        var = getattr(fn, "variable", None)
        if var is not None:
            name = names[id(fn)] = unique(leaf_names.get(id(var), "leaf"))
            op = "Input" if name.startswith("input/") else "Parameter"
            if op == "Parameter" and "/" in name:
                param_scope[id(fn)] = name.rsplit("/", 1)[0]
            nodes.append(NodeDef(name=name, op=op, attr=shape_attr(var)))
            return name
        parents = [f for f, _ in fn.next_functions if f is not None]
        inputs = [name_of(f) for f in parents]
        scope = scopes.get(id(fn))
        if scope is None:   # e.g. a weight's transpose: with the module owning the weights
            owners = {param_scope.get(id(f)) for f in parents}
            scope = owners.pop() if len(owners) == 1 else None
        name = names[id(fn)] = unique(f"{scope}/{fn.name()}" if scope else fn.name())
        nodes.append(NodeDef(name=name, op=fn.name(), input=inputs))
        return name

    for i, out in enumerate(outputs):
        inputs = [name_of(out.grad_fn)] if out.grad_fn is not None else []
        nodes.append(NodeDef(name=f"output/output.{i}", op="Output", input=inputs,
                             attr=shape_attr(out)))
    if verbose:
        for n in nodes:
            print(f"{n.name} = {n.op}({', '.join(n.input)})")
    return GraphDef(node=nodes, versions=VersionDef(producer=22))
