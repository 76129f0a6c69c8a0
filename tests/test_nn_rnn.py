"""RNN, LSTM, GRU, their cells and nn.utils.rnn against torch: outputs,
final states and the gradients of inputs, initial states and every
parameter, for every option combination, padded and packed."""
import itertools
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, to_ember, to_torch

E_RNN = ember.nn.utils.rnn
T_RNN = torch.nn.utils.rnn
ATOL = 1e-10


@pytest.fixture(autouse=True)
def _native_torch_rnn():
    """torch's oneDNN RNN kernels take seconds to prime per shape; its native
    kernels give the same results at once."""
    was = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    yield
    torch.backends.mkldnn.enabled = was


def _pair(cls, *args, dtype=torch.float64, **kw):
    """A torch module and an ember one with the same weights."""
    tm = getattr(torch.nn, cls)(*args, **kw).to(dtype)
    em = getattr(ember.nn, cls)(*args, **kw).to(getattr(ember, str(dtype)[6:]))
    em.load_state_dict({k: to_ember(v) for k, v in tm.state_dict().items()})
    return em, tm


def _leaf(a):
    return ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _weighted_sum(lib, outs):
    """A loss reaching every output with distinct weights."""
    total = 0
    for o in outs:
        w = np.cos(np.arange(o.numel()) * 0.7).reshape(tuple(o.shape))
        total = total + (o * lib.tensor(w, dtype=o.dtype)).sum()
    return total


def _flat(out, state):
    return [out] + (list(state) if isinstance(state, tuple) else [state])


def _check_grads(em, tm, pairs, atol=ATOL, rtol=1e-5):
    for e, t in pairs:
        assert_close(e.grad, t.grad, atol=atol, rtol=rtol)
    names = [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in em.named_parameters()] == names
    for (n, p), (_, q) in zip(em.named_parameters(), tm.named_parameters()):
        assert p.grad is not None, n
        assert_close(p.grad, q.grad, atol=atol, rtol=rtol)


def _compare(cls, kw, *, T=5, B=3, F=4, H=6, packed=False, with_state=True, seed=0):
    rng = np.random.default_rng(seed)
    em, tm = _pair(cls, F, H, **kw)
    bf = kw.get("batch_first", False)
    ex, tx = _leaf(rng.standard_normal((B, T, F) if bf else (T, B, F)))
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    hr = kw.get("proj_size", 0) or H
    eh, th = _leaf(rng.standard_normal((L * D, B, hr)))
    ec, tc = _leaf(rng.standard_normal((L * D, B, H)))
    es = ((eh, ec) if cls == "LSTM" else eh) if with_state else None
    ts = ((th, tc) if cls == "LSTM" else th) if with_state else None
    if packed:
        lengths = [T, 2, T - 1][:B]
        ein = E_RNN.pack_padded_sequence(ex, lengths, batch_first=bf, enforce_sorted=False)
        tin = T_RNN.pack_padded_sequence(tx, lengths, batch_first=bf, enforce_sorted=False)
    else:
        ein, tin = ex, tx
    eo, estate = em(ein, es)
    to, tstate = tm(tin, ts)
    if packed:
        assert isinstance(eo, E_RNN.PackedSequence)
        assert_close(eo.batch_sizes, to.batch_sizes)
        eo = E_RNN.pad_packed_sequence(eo, batch_first=bf)[0]
        to = T_RNN.pad_packed_sequence(to, batch_first=bf)[0]
    assert_close(eo, to, atol=ATOL)
    assert_close(estate, tstate, atol=ATOL)
    _weighted_sum(ember, _flat(eo, estate)).backward()
    _weighted_sum(torch, _flat(to, tstate)).backward()
    pairs = [(ex, tx)]
    if with_state:
        pairs += [(eh, th)] + ([(ec, tc)] if cls == "LSTM" else [])
    _check_grads(em, tm, pairs)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first,bidirectional,num_layers,packed",
                         list(itertools.product([False, True], [False, True], [1, 2],
                                                [False, True])))
def test_recurrent_layers_match_torch(cls, batch_first, bidirectional, num_layers, packed):
    kw = dict(batch_first=batch_first, bidirectional=bidirectional, num_layers=num_layers)
    _compare(cls, kw, packed=packed, with_state=True)
    if num_layers == 1:  # zero initial states
        _compare(cls, kw, packed=packed, with_state=False, seed=1)


@pytest.mark.parametrize("cls,kw", [
    ("LSTM", dict(proj_size=3)),
    ("LSTM", dict(proj_size=3, num_layers=2, bidirectional=True)),
    ("RNN", dict(nonlinearity="relu", num_layers=2, bidirectional=True)),
    ("RNN", dict(bias=False)),
    ("LSTM", dict(bias=False, num_layers=2)),
    ("GRU", dict(bias=False, bidirectional=True)),
    ("LSTM", dict(bias=False, proj_size=2, batch_first=True)),
])
@pytest.mark.parametrize("packed", [False, True])
def test_recurrent_options_match_torch(cls, kw, packed):
    _compare(cls, kw, packed=packed)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_float32_stays_float32(cls):
    rng = np.random.default_rng(2)
    em, tm = _pair(cls, 8, 16, 2, dtype=torch.float32, batch_first=True)
    x = rng.standard_normal((4, 7, 8)).astype(np.float32)
    ex, tx = _leaf(x)
    eo, es = em(ex)
    to, ts = tm(tx)
    assert eo.dtype == ember.float32
    assert_close(eo, to, atol=1e-5)
    assert_close(es, ts, atol=1e-5)
    _weighted_sum(ember, _flat(eo, es)).backward()
    _weighted_sum(torch, _flat(to, ts)).backward()
    _check_grads(em, tm, [(ex, tx)], atol=1e-4, rtol=1e-4)
    assert ex.grad.dtype == ember.float32


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(cls):
    rng = np.random.default_rng(3)
    em, tm = _pair(cls, 4, 5, 2, bidirectional=True)
    ex, tx = _leaf(rng.standard_normal((6, 4)))
    eh, th = _leaf(rng.standard_normal((4, 5)))
    ec, tc = _leaf(rng.standard_normal((4, 5)))
    es, ts = ((eh, ec), (th, tc)) if cls == "LSTM" else (eh, th)
    eo, estate = em(ex, es)
    to, tstate = tm(tx, ts)
    assert_close(eo, to, atol=ATOL)
    assert_close(estate, tstate, atol=ATOL)
    _weighted_sum(ember, _flat(eo, estate)).backward()
    _weighted_sum(torch, _flat(to, tstate)).backward()
    _check_grads(em, tm, [(ex, tx), (eh, th)] + ([(ec, tc)] if cls == "LSTM" else []))


# ---------------------------------------------------------------- cells
@pytest.mark.parametrize("cls,kw", [("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu")),
                                    ("RNNCell", dict(bias=False)), ("LSTMCell", {}),
                                    ("LSTMCell", dict(bias=False)), ("GRUCell", {}),
                                    ("GRUCell", dict(bias=False))])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cells_match_torch(cls, kw, batched, with_state):
    rng = np.random.default_rng(4)
    em, tm = _pair(cls, 4, 5, **kw)
    lead = (3,) if batched else ()
    eh, th = _leaf(rng.standard_normal(lead + (5,)))
    ec, tc = _leaf(rng.standard_normal(lead + (5,)))
    eouts, touts, pairs = [], [], []
    es = ((eh, ec) if cls == "LSTMCell" else eh) if with_state else None
    ts = ((th, tc) if cls == "LSTMCell" else th) if with_state else None
    for step in range(3):  # the seed's loop: the state feeds the next step
        ex, tx = _leaf(rng.standard_normal(lead + (4,)))
        pairs.append((ex, tx))
        es, ts = em(ex, es), tm(tx, ts)
        assert_close(es, ts, atol=ATOL)
        eouts += list(es) if isinstance(es, tuple) else [es]
        touts += list(ts) if isinstance(ts, tuple) else [ts]
    _weighted_sum(ember, eouts).backward()
    _weighted_sum(torch, touts).backward()
    if with_state:
        pairs += [(eh, th)] + ([(ec, tc)] if cls == "LSTMCell" else [])
    _check_grads(em, tm, pairs)


def test_cell_reprs_and_parameters():
    for cls, kw in [("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu", bias=False)),
                    ("LSTMCell", dict(bias=False)), ("GRUCell", {})]:
        em, tm = _pair(cls, 10, 20, **kw)
        assert repr(em) == repr(tm)
        assert [(n, tuple(p.shape)) for n, p in em.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in tm.named_parameters()]


# ---------------------------------------------------------------- module structure
@pytest.mark.parametrize("cls,args,kw", [
    ("LSTM", (10, 20), dict(num_layers=2, batch_first=True)),
    ("LSTM", (10, 20), dict(proj_size=5, bidirectional=True, bias=False)),
    ("GRU", (3, 4), dict(num_layers=3, dropout=0.25, bidirectional=True)),
    ("RNN", (3, 4, 2, "relu"), {}),
    ("RNN", (3, 4), dict(nonlinearity="relu", bias=False)),
])
def test_structure_matches_torch(cls, args, kw):
    em, tm = _pair(cls, *args, **kw)
    assert repr(em) == repr(tm)
    assert [(n, tuple(p.shape)) for n, p in em.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert [[tuple(w.shape) for w in ws] for ws in em.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in tm.all_weights]
    assert em._flat_weights_names == tm._flat_weights_names
    em.flatten_parameters()
    # ember weights load into torch too
    tm2 = getattr(torch.nn, cls)(*args, **kw).double()
    tm2.load_state_dict({k: to_torch(v) for k, v in em.state_dict().items()})
    for (n, p), (_, q) in zip(tm2.named_parameters(), tm.named_parameters()):
        assert torch.equal(p, q), n


def test_default_init_is_uniform_in_inverse_sqrt_hidden():
    m = ember.nn.LSTM(30, 100, 2)
    bound = 1 / np.sqrt(100)
    for n, p in m.named_parameters():
        a = p.detach().numpy()
        assert a.min() >= -bound and a.max() <= bound, n
        assert a.max() > 0.9 * bound and a.min() < -0.9 * bound, n
    c = ember.nn.GRUCell(3, 25)
    assert np.abs(c.weight_hh.detach().numpy()).max() <= 0.2


def test_grad_fn_is_one_node_per_layer_and_direction():
    m = ember.nn.LSTM(3, 4, 2, bidirectional=True)
    out, (h, c) = m(ember.randn(5, 2, 3, requires_grad=True))
    nodes, stack = set(), [out.grad_fn]
    while stack:
        n = stack.pop()
        if n is None or n in nodes:
            continue
        nodes.add(n)
        stack.extend(f for f, _ in n.next_functions)
    names = [n.name() for n in nodes]
    assert names.count("MkldnnRnnLayerBackward0") == 4
    assert len(names) < 30


# ---------------------------------------------------------------- dropout between layers
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_dropout_eval_matches_torch_and_train_drops(cls):
    rng = np.random.default_rng(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em, tm = _pair(cls, 4, 32, 2, dropout=0.5)
    em.eval()
    tm.eval()
    x = rng.standard_normal((6, 3, 4))
    eo, _ = em(ember.tensor(x))
    to, _ = tm(torch.tensor(x))
    assert_close(eo, to, atol=ATOL)
    em.train()
    ember.manual_seed(0)
    a, _ = em(ember.tensor(x))
    b, _ = em(ember.tensor(x))
    assert a.shape == eo.shape
    assert not np.allclose(a.detach().numpy(), eo.detach().numpy())
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    # the first layer's output is dropped and rescaled: averaged over many runs the output
    # comes much closer to the eval output than a single run is
    runs = np.mean([em(ember.tensor(x))[0].detach().numpy() for _ in range(100)], axis=0)
    ref = eo.detach().numpy()
    assert np.abs(runs - ref).mean() < 0.5 * np.abs(a.detach().numpy() - ref).mean()


def test_dropout_warning_and_bad_dropout():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ember.nn.LSTM(3, 4, dropout=0.5)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        ember.nn.GRU(3, 4, 2, dropout=1.5)


# ---------------------------------------------------------------- gradcheck, double backward
@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_gradcheck_tiny(cls):
    m = getattr(ember.nn, cls)(2, 3, bidirectional=True).double()
    x = ember.randn(3, 2, 2, dtype=ember.float64, requires_grad=True)
    h = ember.randn(2, 2, 3, dtype=ember.float64, requires_grad=True)
    c = ember.randn(2, 2, 3, dtype=ember.float64, requires_grad=True)
    w = m.weight_hh_l0_reverse

    def fn(x, h, c, w):
        out, state = m(x, (h, c) if cls == "LSTM" else h)
        return (out,) + (state if isinstance(state, tuple) else (state,))
    assert ember.autograd.gradcheck(fn, (x, h, c if cls == "LSTM" else c.detach(), w))


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_double_backward_recomputes_op_by_op(cls):
    m = getattr(ember.nn, cls)(2, 3).double()
    x = ember.randn(3, 2, 2, dtype=ember.float64, requires_grad=True)
    h = ember.randn(1, 2, 3, dtype=ember.float64, requires_grad=True)

    def fn(x, h):
        out, _ = m(x, (h, ember.zeros_like(h)) if cls == "LSTM" else h)
        return out
    assert ember.autograd.gradgradcheck(fn, (x, h))

    # against torch: a gradient penalty on a packed batch
    em, tm = _pair(cls, 2, 3)
    tx = to_torch(x.detach(), requires_grad=True)
    for lib, mod, inp in ((ember, em, x), (torch, tm, tx)):
        seq = (E_RNN if lib is ember else T_RNN).pack_padded_sequence(inp, [3, 2])
        out, _ = mod(seq)
        g, = lib.autograd.grad(out.data.pow(2).sum(), inp, create_graph=True)
        (g.pow(2).sum() + out.data.sum()).backward()
    assert_close(x.grad, tx.grad, atol=1e-9)
    for (n, p), (_, q) in zip(em.named_parameters(), tm.named_parameters()):
        assert_close(p.grad, q.grad, atol=1e-9)


def test_modified_output_is_detected():
    m = ember.nn.RNN(2, 3)
    out, _ = m(ember.randn(4, 1, 2, requires_grad=True))
    out.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_no_graph_without_grad():
    m = ember.nn.LSTM(3, 4)
    with ember.no_grad():
        out, (h, c) = m(ember.randn(5, 2, 3))
    assert out.grad_fn is None and not out.requires_grad and h.grad_fn is None


# ---------------------------------------------------------------- bad input
def _raises(fn_e, fn_t, exc, match):
    with pytest.raises(exc) as te:
        fn_t()
    with pytest.raises(exc) as ee:
        fn_e()
    assert str(ee.value) == str(te.value)
    assert match in str(ee.value)


def test_bad_input_messages():
    em, tm = _pair("LSTM", 10, 20, 2)
    e3, t3 = ember.randn(5, 3, 10, dtype=ember.float64), torch.randn(5, 3, 10, dtype=torch.float64)
    _raises(lambda: em(ember.randn(5, 3, 7, dtype=ember.float64)),
            lambda: tm(torch.randn(5, 3, 7, dtype=torch.float64)), RuntimeError,
            "input.size(-1) must be equal to input_size. Expected 10, got 7")
    _raises(lambda: em(e3, (ember.zeros(1, 3, 20, dtype=ember.float64),
                            ember.zeros(2, 3, 20, dtype=ember.float64))),
            lambda: tm(t3, (torch.zeros(1, 3, 20, dtype=torch.float64),
                            torch.zeros(2, 3, 20, dtype=torch.float64))),
            RuntimeError, "Expected hidden[0] size (2, 3, 20), got [1, 3, 20]")
    _raises(lambda: em(e3, (ember.zeros(2, 3, 20, dtype=ember.float64),
                            ember.zeros(2, 3, 21, dtype=ember.float64))),
            lambda: tm(t3, (torch.zeros(2, 3, 20, dtype=torch.float64),
                            torch.zeros(2, 3, 21, dtype=torch.float64))),
            RuntimeError, "Expected hidden[1] size")
    _raises(lambda: em(ember.randn(10)), lambda: tm(torch.randn(10)), ValueError,
            "LSTM: Expected input to be 2D or 3D, got 1D instead")
    _raises(lambda: em(ember.randn(5, 3, 10)), lambda: tm(torch.randn(5, 3, 10)), ValueError,
            "does not match weight dtype")
    _raises(lambda: em(e3, (ember.zeros(2, 20, dtype=ember.float64),) * 2),
            lambda: tm(t3, (torch.zeros(2, 20, dtype=torch.float64),) * 2), RuntimeError,
            "For batched 3-D input, hx and cx should also be 3-D")

    er, tr = _pair("RNN", 10, 20, 2)
    _raises(lambda: er(e3, ember.zeros(1, 3, 20, dtype=ember.float64)),
            lambda: tr(t3, torch.zeros(1, 3, 20, dtype=torch.float64)), RuntimeError,
            "Expected hidden size (2, 3, 20), got [1, 3, 20]")
    _raises(lambda: er(e3, ember.zeros(3, 20, dtype=ember.float64)),
            lambda: tr(t3, torch.zeros(3, 20, dtype=torch.float64)), RuntimeError,
            "For batched 3-D input, hx should also be 3-D but got 2-D tensor")
    _raises(lambda: er(e3[0], ember.zeros(2, 1, 20, dtype=ember.float64)),
            lambda: tr(t3[0], torch.zeros(2, 1, 20, dtype=torch.float64)), RuntimeError,
            "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor")
    _raises(lambda: er(ember.randn(10)), lambda: tr(torch.randn(10)), ValueError,
            "RNN: Expected input to be 2D or 3D, got 1D tensor instead")
    eg, tg = _pair("GRU", 10, 20)
    _raises(lambda: eg(ember.randn(1, 1, 1, 10)), lambda: tg(torch.randn(1, 1, 1, 10)),
            ValueError, "GRU: Expected input to be 2D or 3D, got 4D instead")
    _raises(lambda: eg(ember.randn(5, 3, 10, dtype=ember.float64), ember.zeros(1, 3, 20)),
            lambda: tg(torch.randn(5, 3, 10, dtype=torch.float64), torch.zeros(1, 3, 20)),
            RuntimeError, "mat1 and mat2 must have the same dtype, but got Float and Double")
    pe = E_RNN.pack_sequence([ember.randn(3, 10, dtype=ember.float64),
                              ember.randn(2, 10, dtype=ember.float64)])
    pt = T_RNN.pack_sequence([torch.randn(3, 10, dtype=torch.float64),
                              torch.randn(2, 10, dtype=torch.float64)])
    _raises(lambda: er(pe, ember.zeros(1, 2, 20, dtype=ember.float64)),
            lambda: tr(pt, torch.zeros(1, 2, 20, dtype=torch.float64)), RuntimeError,
            "Expected hidden size (2, 2, 20), got [1, 2, 20]")


def test_bad_cell_input_messages():
    for cls in ("RNNCell", "LSTMCell", "GRUCell"):
        em, tm = _pair(cls, 4, 3)
        lstm = cls == "LSTMCell"

        def st(lib, *shapes):
            ts = [lib.zeros(*s, dtype=lib.float64) for s in shapes]
            return tuple(ts) if lstm else ts[0]
        for x_shape, h_shapes in [((2, 5), None), ((2, 4), [(3, 3), (3, 3)]),
                                  ((2, 4), [(2, 2), (2, 2)])]:
            def call(lib, mod):
                hs = st(lib, *h_shapes[:2 if lstm else 1]) if h_shapes else None
                return mod(lib.zeros(*x_shape, dtype=lib.float64), hs)
            _raises(lambda: call(ember, em), lambda: call(torch, tm), RuntimeError, "")
        _raises(lambda: em(ember.zeros(2, 4, 1, dtype=ember.float64)),
                lambda: tm(torch.zeros(2, 4, 1, dtype=torch.float64)), ValueError,
                "Expected input to be 1D or 2D, got 3D instead")
        _raises(lambda: em(ember.zeros(2, 4)), lambda: tm(torch.zeros(2, 4)), RuntimeError,
                "must have the same dtype")


def test_bad_constructor_arguments():
    for fn in (lambda lib: lib.nn.GRU(10, 20, proj_size=2),
               lambda lib: lib.nn.LSTM(10, 20, proj_size=20),
               lambda lib: lib.nn.LSTM(10, 20, num_layers=0),
               lambda lib: lib.nn.RNN(10, 20, nonlinearity="gelu"),
               lambda lib: lib.nn.RNN(0, 20),
               lambda lib: lib.nn.LSTM(10, 20, bias=1)):
        _raises(lambda: fn(ember), lambda: fn(torch), (ValueError, TypeError), "")
    c = ember.nn.RNNCell(4, 3, nonlinearity="gelu")
    with pytest.raises(RuntimeError, match="Unknown nonlinearity: gelu"):
        c(ember.zeros(2, 4))


# ---------------------------------------------------------------- nn.utils.rnn
def test_pack_padded_sequence_matches_torch():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 4, 2))
    for lengths, enforce, bf in [([5, 4, 2, 1], True, False), ([2, 5, 1, 4], False, False),
                                 ([3, 3, 5, 1], False, True), ([5, 5, 5, 5], True, True)]:
        xi = x.transpose(1, 0, 2).copy() if bf else x
        ex, tx = _leaf(xi)
        for lens in (lengths, torch.tensor(lengths)):
            el = ember.tensor(lens.numpy()) if isinstance(lens, torch.Tensor) else lens
            ep = E_RNN.pack_padded_sequence(ex, el, batch_first=bf, enforce_sorted=enforce)
            tp = T_RNN.pack_padded_sequence(tx, lens, batch_first=bf, enforce_sorted=enforce)
            for a, b in zip(ep, tp):
                if b is None:
                    assert a is None
                else:
                    assert_close(a, b)
            assert ep.batch_sizes.dtype == ember.int64 and ep.batch_sizes.device.type == "cpu"
        w = rng.standard_normal(tuple(tp.data.shape))
        (ep.data * ember.tensor(w)).sum().backward()
        (tp.data * torch.tensor(w)).sum().backward()
        assert_close(ex.grad, tx.grad)
        for kw in (dict(), dict(batch_first=True, padding_value=-1.0),
                   dict(total_length=7, padding_value=2.5)):
            ep2 = E_RNN.PackedSequence(ep.data.detach(), ep.batch_sizes, ep.sorted_indices,
                                       ep.unsorted_indices)
            eo, elen = E_RNN.pad_packed_sequence(ep2, **kw)
            to, tlen = T_RNN.pad_packed_sequence(tp, **kw)
            assert_close(eo, to)
            assert_close(elen, tlen)


def test_pad_packed_sequence_gradient():
    rng = np.random.default_rng(7)
    ed, td = _leaf(rng.standard_normal((6, 3)))
    bs = [3, 2, 1]
    ep = E_RNN.PackedSequence(ed, ember.tensor(bs))
    tp = T_RNN.PackedSequence(td, torch.tensor(bs))
    eo, _ = E_RNN.pad_packed_sequence(ep, batch_first=True, total_length=4)
    to, _ = T_RNN.pad_packed_sequence(tp, batch_first=True, total_length=4)
    _weighted_sum(ember, [eo]).backward()
    _weighted_sum(torch, [to]).backward()
    assert_close(ed.grad, td.grad)


def test_pack_errors_match_torch():
    x = np.zeros((5, 3, 2))
    for lengths in ([3, 5, 2], [5, 3, 0], [5, 3, 2, 1], [5, 3, -1], [[5, 3, 2]]):
        el = ember.tensor(lengths) if len(lengths) == 1 else lengths
        tl = torch.tensor(lengths) if len(lengths) == 1 else lengths
        _raises(lambda: E_RNN.pack_padded_sequence(ember.tensor(x), el),
                lambda: T_RNN.pack_padded_sequence(torch.tensor(x), tl), RuntimeError, "")
    _raises(lambda: E_RNN.pack_sequence([ember.ones(2), ember.ones(3)]),
            lambda: T_RNN.pack_sequence([torch.ones(2), torch.ones(3)]), RuntimeError,
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True")
    p = E_RNN.pack_sequence([ember.ones(3), ember.ones(2)])
    tp = T_RNN.pack_sequence([torch.ones(3), torch.ones(2)])
    _raises(lambda: E_RNN.pad_packed_sequence(p, total_length=2),
            lambda: T_RNN.pad_packed_sequence(tp, total_length=2), ValueError, "total_length=2")


def test_pad_sequence_matches_torch():
    rng = np.random.default_rng(8)
    seqs = [rng.standard_normal((n, 2, 3)) for n in (2, 5, 3)]
    for kw in (dict(), dict(batch_first=True), dict(padding_value=-2.0, padding_side="left"),
               dict(batch_first=True, padding_side="left")):
        es = [ember.tensor(s, requires_grad=True) for s in seqs]
        ts = [torch.tensor(s, requires_grad=True) for s in seqs]
        eo, to = E_RNN.pad_sequence(es, **kw), T_RNN.pad_sequence(ts, **kw)
        assert_close(eo, to)
        _weighted_sum(ember, [eo]).backward()
        _weighted_sum(torch, [to]).backward()
        for e, t in zip(es, ts):
            assert_close(e.grad, t.grad)
    _raises(lambda: E_RNN.pad_sequence([]), lambda: T_RNN.pad_sequence([]), RuntimeError,
            "received an empty list of sequences")
    _raises(lambda: E_RNN.pad_sequence([ember.ones(2)], padding_side="up"),
            lambda: T_RNN.pad_sequence([torch.ones(2)], padding_side="up"), RuntimeError,
            "Expected padding_side to be one of left or right, but got up.")
    _raises(lambda: E_RNN.pad_sequence([ember.ones(2, 3), ember.ones(3, 2)]),
            lambda: T_RNN.pad_sequence([torch.ones(2, 3), torch.ones(3, 2)]), RuntimeError,
            "The size of tensor a (3) must match the size of tensor b (2)")


def test_pack_unpack_sequence_round_trip():
    rng = np.random.default_rng(9)
    seqs = [rng.standard_normal((n, 3)) for n in (2, 4, 1)]
    ep = E_RNN.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    tp = T_RNN.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    for a, b in zip(ep, tp):
        assert_close(a, b)
    for e, t, s in zip(E_RNN.unpack_sequence(ep), T_RNN.unpack_sequence(tp), seqs):
        assert_close(e, t)
        np.testing.assert_array_equal(e.numpy(), s)
    padded = ember.tensor(np.stack([np.pad(s, ((0, 4 - len(s)), (0, 0))) for s in seqs], 1))
    parts = E_RNN.unpad_sequence(padded, ember.tensor([2, 4, 1]))
    assert [tuple(p.shape) for p in parts] == [(2, 3), (4, 3), (1, 3)]


def test_packed_sequence_methods():
    p = E_RNN.pack_sequence([ember.ones(3, 2), ember.ones(1, 2)], enforce_sorted=False)
    tp = T_RNN.pack_sequence([torch.ones(3, 2), torch.ones(1, 2)], enforce_sorted=False)
    assert isinstance(p, tuple) and p._fields == tp._fields
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert p.data is data and p.is_cuda is False and p.is_pinned() is False
    d = p.double()
    assert d.data.dtype == ember.float64 and d.batch_sizes is p.batch_sizes
    assert p.to(ember.float32) is p
    assert p.cpu() is p
    assert_close(p.to(dtype=ember.float64).sorted_indices, tp.sorted_indices)
    assert_close(E_RNN.invert_permutation(ember.tensor([2, 0, 1])),
                 T_RNN.invert_permutation(torch.tensor([2, 0, 1])))
    assert E_RNN.invert_permutation(None) is None
    assert repr(p).startswith("PackedSequence(data=tensor(")


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_packed_final_states_are_each_sequences_last_step(cls):
    """The final state of a packed batch equals running each sequence alone."""
    rng = np.random.default_rng(10)
    m = getattr(ember.nn, cls)(3, 4, bidirectional=True).double()
    seqs = [ember.tensor(rng.standard_normal((n, 3))) for n in (2, 5, 3)]
    _, state = m(E_RNN.pack_sequence(seqs, enforce_sorted=False))
    h = state[0] if cls == "LSTM" else state
    for i, s in enumerate(seqs):
        _, alone = m(s)
        alone_h = alone[0] if cls == "LSTM" else alone
        assert_close(h[:, i], to_torch(alone_h), atol=ATOL)


# ---------------------------------------------------------------- on a CUDA device
try:
    from test_cuda import cuda, fake_cuda  # noqa: E402,F401 (fixtures: fake CuPy, or a real GPU)
except ImportError:
    @pytest.fixture
    def cuda():
        pytest.skip("the CUDA fixtures of tests/test_cuda.py are not there")


@pytest.mark.parametrize("cls,kw", [("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)),
                                    ("GRU", dict(bidirectional=True)),
                                    ("RNN", dict(nonlinearity="relu", num_layers=2))])
def test_recurrent_layers_on_cuda_device(cuda, cls, kw):
    """Packed forward, backward and double backward on a CUDA device give the CPU's values."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((5, 3, 3))
    ref = getattr(ember.nn, cls)(3, 4, **kw).double()
    out = []
    for dev in ("cpu", "cuda"):
        m = getattr(ember.nn, cls)(3, 4, **kw).double().to(dev)
        m.load_state_dict(ref.state_dict())
        xe = ember.tensor(x, device=dev, requires_grad=True)
        packed = E_RNN.pack_padded_sequence(xe, [5, 2, 4], enforce_sorted=False)
        o, state = m(packed)
        o, _ = E_RNN.pad_packed_sequence(o, batch_first=True, total_length=6)
        h = state[0] if isinstance(state, tuple) else state
        g, = ember.autograd.grad((o * o).sum() + h.sum(), xe, create_graph=True)
        g.sum().backward()
        assert o.device.type == dev and g.device.type == dev
        out.append([t.detach().cpu().numpy() for t in [o, h, g, xe.grad] +
                    [p.grad for p in m.parameters()]])
        c = ember.nn.LSTMCell(3, 4).to(dev)
        assert c(ember.zeros(2, 3, device=dev))[1].device.type == dev
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
