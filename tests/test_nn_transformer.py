"""scaled_dot_product_attention, MultiheadAttention and the Transformer
layers against torch (eval mode, copied weights): outputs, attention
weights and gradients under masks and options; a small encoder learns a
sequence task."""
import itertools

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, to_ember

ATOL = 1e-10


def _pair(cls, *args, **kw):
    """A torch module and an ember one with the same weights (float64, eval)."""
    tm = getattr(torch.nn, cls)(*args, **kw).double().eval()
    em = getattr(ember.nn, cls)(*args, **kw).double().eval()
    em.load_state_dict({k: to_ember(v) for k, v in tm.state_dict().items()})
    return em, tm


def _leaves(*arrays):
    return ([ember.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _loss(lib, outs):
    total = 0
    for o in outs:
        if o is None:
            continue
        w = np.sin(np.arange(o.numel()) * 0.37 + 0.1).reshape(tuple(o.shape))
        total = total + (o * lib.tensor(w, dtype=o.dtype)).sum()
    return total


def _check_grads(e_list, t_list, em=None, tm=None, atol=1e-9):
    for e, t in zip(e_list, t_list):
        assert_close(e.grad, t.grad, atol=atol)
    if em is not None:
        tp = dict(tm.named_parameters())
        for n, p in em.named_parameters():
            assert_close(p.grad, tp[n].grad, atol=atol)


def _mask_pair(a):
    return (None, None) if a is None else (ember.tensor(a), torch.tensor(a))


# ---------------------------------------------------------------- scaled_dot_product_attention
@pytest.mark.parametrize("mask,is_causal,scale", [
    (None, False, None), (None, True, None), ("bool", False, None), ("float", False, 0.3),
    ("bool3", False, None), ("float_b", False, None), ("dead", False, None)])
def test_sdpa_matches_torch(mask, is_causal, scale):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s) for s in ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)))
    m = {None: None, "bool": rng.random((4, 6)) > 0.4, "float": rng.standard_normal((4, 6)),
         "bool3": rng.random((3, 4, 6)) > 0.3, "float_b": rng.standard_normal((2, 1, 1, 6)),
         "dead": np.tile(np.array([True, True, False, False, True, True]), (4, 1))}[mask]
    if mask == "dead":
        m[2] = False  # a query that may attend to nothing gets zeros
    (eq, ek, ev), (tq, tk, tv) = _leaves(q, k, v)
    em_, tm_ = _mask_pair(m)
    if mask in ("float", "float_b"):
        em_.requires_grad_()
        tm_.requires_grad_()
    eo = ember.nn.functional.scaled_dot_product_attention(eq, ek, ev, em_, is_causal=is_causal,
                                                          scale=scale)
    to = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, tm_, is_causal=is_causal,
                                                          scale=scale)
    assert_close(eo, to, atol=ATOL)
    _loss(ember, [eo]).backward()
    _loss(torch, [to]).backward()
    _check_grads([eq, ek, ev] + ([em_] if em_ is not None and em_.requires_grad else []),
                 [tq, tk, tv] + ([tm_] if tm_ is not None and tm_.requires_grad else []))


def test_sdpa_causal_with_mask_gqa_unbatched_and_dropout():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal(s) for s in ((1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)))
    m = rng.random((3, 5)) > 0.3
    F, TF = ember.nn.functional, torch.nn.functional
    e = [ember.tensor(a) for a in (q, k, v)]
    t = [torch.tensor(a) for a in (q, k, v)]
    # inference kernel: both the causal and the explicit mask apply
    assert_close(F.scaled_dot_product_attention(e[0][:, :2], *e[1:], ember.tensor(m),
                                                is_causal=True),
                 TF.scaled_dot_product_attention(t[0][:, :2], *t[1:], torch.tensor(m),
                                                 is_causal=True), atol=ATOL)
    assert_close(F.scaled_dot_product_attention(*e, enable_gqa=True),
                 TF.scaled_dot_product_attention(*t, enable_gqa=True), atol=ATOL)
    assert_close(F.scaled_dot_product_attention(e[0][0, 0], e[1][0, 0], e[2][0, 0]),
                 TF.scaled_dot_product_attention(t[0][0, 0], t[1][0, 0], t[2][0, 0]), atol=ATOL)
    ember.manual_seed(0)
    a = F.scaled_dot_product_attention(*[x[:, :2] for x in e], dropout_p=0.5)
    b = F.scaled_dot_product_attention(*[x[:, :2] for x in e])
    assert a.shape == b.shape and not np.allclose(a.numpy(), b.numpy())
    eg = ember.tensor(q[:, :2], requires_grad=True)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        F.scaled_dot_product_attention(eg, *e[1:], ember.tensor(m), is_causal=True)
    with pytest.raises(RuntimeError, match="Expected query, key, and value to have the same"):
        F.scaled_dot_product_attention(e[0].float(), e[1], e[2])
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float"):
        F.scaled_dot_product_attention(*e, ember.zeros(3, 5, dtype=ember.int64))


# ---------------------------------------------------------------- MultiheadAttention
MHA_CASES = [
    dict(), dict(batch_first=True), dict(bias=False), dict(add_bias_kv=True),
    dict(add_zero_attn=True), dict(kdim=5, vdim=7), dict(add_bias_kv=True, add_zero_attn=True,
                                                         batch_first=True, dropout=0.3),
]


@pytest.mark.parametrize("kw", MHA_CASES)
@pytest.mark.parametrize("masks", ["none", "bool", "float", "kpm3d"])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_multihead_attention_matches_torch(kw, masks, need_weights, average):
    rng = np.random.default_rng(2)
    E, H, L, S, N = 8, 2, 4, 5, 3
    em, tm = _pair("MultiheadAttention", E, H, **kw)
    bf = kw.get("batch_first", False)
    lead_q, lead_k = ((N, L), (N, S)) if bf else ((L, N), (S, N))
    q = rng.standard_normal(lead_q + (E,))
    k = rng.standard_normal(lead_k + (kw.get("kdim", E),))
    v = rng.standard_normal(lead_k + (kw.get("vdim", E),))
    kpm = attn = None
    if masks == "bool":
        kpm = np.zeros((N, S), bool)
        kpm[0, -2:] = True
        attn = rng.random((L, S)) > 0.8
    elif masks == "float":
        kpm = np.where(rng.random((N, S)) > 0.7, -np.inf, 0.0)
        kpm[:, 0] = 0.0
        attn = rng.standard_normal((L, S))
    elif masks == "kpm3d":
        attn = rng.random((N * H, L, S)) > 0.7
    (eq, ek, ev), (tq, tk, tv) = _leaves(q, k, v)
    ekpm, tkpm = _mask_pair(kpm)
    eat, tat = _mask_pair(attn)
    eo, ew = em(eq, ek, ev, key_padding_mask=ekpm, need_weights=need_weights, attn_mask=eat,
                average_attn_weights=average)
    to, tw = tm(tq, tk, tv, key_padding_mask=tkpm, need_weights=need_weights, attn_mask=tat,
                average_attn_weights=average)
    assert_close(eo, to, atol=ATOL)
    if need_weights:
        assert_close(ew, tw, atol=ATOL)
    else:
        assert ew is None and tw is None
    _loss(ember, [eo, ew]).backward()
    _loss(torch, [to, tw]).backward()
    _check_grads([eq, ek, ev], [tq, tk, tv], em, tm)


@pytest.mark.parametrize("batch_first", [False, True])
def test_self_attention_causal_unbatched_and_fast_path(batch_first):
    rng = np.random.default_rng(3)
    em, tm = _pair("MultiheadAttention", 8, 4, batch_first=batch_first)
    x = rng.standard_normal((3, 5, 8) if batch_first else (5, 3, 8))
    causal = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    ecausal = ember.nn.Transformer.generate_square_subsequent_mask(5, dtype=ember.float64)
    assert_close(ecausal, causal)
    (ex,), (tx,) = _leaves(x)
    for need_weights in (False, True):
        eo, _ = em(ex, ex, ex, attn_mask=ecausal, is_causal=True, need_weights=need_weights)
        to, _ = tm(tx, tx, tx, attn_mask=causal, is_causal=True, need_weights=need_weights)
        assert_close(eo, to, atol=ATOL)
    _loss(ember, [eo]).backward()
    _loss(torch, [to]).backward()
    _check_grads([ex], [tx], em, tm)
    # unbatched
    eu, ewu = em(ex[0], ex[0], ex[0])
    tu, twu = tm(tx[0], tx[0], tx[0])
    assert_close(eu, tu, atol=ATOL)
    assert_close(ewu, twu, atol=ATOL)
    # inference: torch takes its fused fast path; same values
    kpm = np.zeros((3, 5), bool)
    kpm[1, 3:] = True
    with torch.no_grad(), ember.no_grad():
        eo, ew = em(ex, ex, ex, key_padding_mask=ember.tensor(kpm))
        to, tw = tm(tx, tx, tx, key_padding_mask=torch.tensor(kpm))
    assert_close(eo, to, atol=ATOL)
    assert_close(ew, tw, atol=ATOL)


def test_multihead_attention_structure_and_errors():
    for kw in (dict(), dict(kdim=3, vdim=5, bias=False), dict(add_bias_kv=True)):
        em, tm = _pair("MultiheadAttention", 6, 3, **kw)
        assert repr(em) == repr(tm)
        assert [(n, tuple(p.shape)) for n, p in em.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
        assert type(em.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
        assert isinstance(em.out_proj, ember.nn.Linear)
    m = ember.nn.MultiheadAttention(6, 2)
    assert np.all(m.in_proj_bias.detach().numpy() == 0)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        ember.nn.MultiheadAttention(7, 2)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        ember.nn.MultiheadAttention(0, 2)
    x = ember.randn(4, 2, 6)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="Expected key_padded_mask.shape\\[1\\] to be 4"):
        m(x, x, x, key_padding_mask=ember.zeros(2, 3, dtype=ember.bool))
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
        m(x, x, x, attn_mask=ember.zeros(3, 4, dtype=ember.bool))
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 6"):
        m(ember.randn(4, 2, 5), x, x)
    with pytest.raises(AssertionError, match="For batched \\(3-D\\) `query`"):
        m(x, x[0], x[0])
    with pytest.raises(AssertionError, match="only bool and floating types"):
        m(x, x, x, attn_mask=ember.zeros(4, 4, dtype=ember.int64))


# ---------------------------------------------------------------- transformer layers
def _act(name):
    return {"relu": "relu", "gelu": "gelu", "callable": None}[name]


@pytest.mark.parametrize("norm_first,activation,batch_first",
                         list(itertools.product([False, True], ["relu", "gelu", "callable"],
                                                [False, True])))
def test_encoder_layer_matches_torch(norm_first, activation, batch_first):
    rng = np.random.default_rng(4)
    act = {"relu": "relu", "gelu": "gelu", "callable": None}[activation]
    kw = dict(dim_feedforward=16, dropout=0.1, norm_first=norm_first, batch_first=batch_first)
    tm = torch.nn.TransformerEncoderLayer(8, 2, activation=act or torch.tanh, **kw).double().eval()
    em = ember.nn.TransformerEncoderLayer(8, 2, activation=act or ember.tanh, **kw).double().eval()
    em.load_state_dict({k: to_ember(v) for k, v in tm.state_dict().items()})
    shape = (3, 5, 8) if batch_first else (5, 3, 8)
    (ex,), (tx,) = _leaves(rng.standard_normal(shape))
    kpm = np.zeros((3, 5), bool)
    kpm[2, 3:] = True
    mask = rng.standard_normal((5, 5))
    eo = em(ex, src_mask=ember.tensor(mask), src_key_padding_mask=ember.tensor(kpm))
    to = tm(tx, src_mask=torch.tensor(mask), src_key_padding_mask=torch.tensor(kpm))
    assert_close(eo, to, atol=ATOL)
    _loss(ember, [eo]).backward()
    _loss(torch, [to]).backward()
    _check_grads([ex], [tx], em, tm)


@pytest.mark.parametrize("norm_first,batch_first", [(False, False), (True, True)])
def test_decoder_layer_matches_torch(norm_first, batch_first):
    rng = np.random.default_rng(5)
    em, tm = _pair("TransformerDecoderLayer", 8, 2, 16, 0.2, "gelu", norm_first=norm_first,
                   batch_first=batch_first)
    tshape, mshape = ((2, 4, 8), (2, 6, 8)) if batch_first else ((4, 2, 8), (6, 2, 8))
    (et, emem), (tt, tmem) = _leaves(rng.standard_normal(tshape), rng.standard_normal(mshape))
    causal = np.triu(np.full((4, 4), -np.inf), 1)
    mkpm = np.zeros((2, 6), bool)
    mkpm[0, 4:] = True
    eo = em(et, emem, tgt_mask=ember.tensor(causal), tgt_is_causal=True,
            memory_key_padding_mask=ember.tensor(mkpm))
    to = tm(tt, tmem, tgt_mask=torch.tensor(causal), tgt_is_causal=True,
            memory_key_padding_mask=torch.tensor(mkpm))
    assert_close(eo, to, atol=ATOL)
    _loss(ember, [eo]).backward()
    _loss(torch, [to]).backward()
    _check_grads([et, emem], [tt, tmem], em, tm)


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(batch_first):
    rng = np.random.default_rng(6)
    em, tm = _pair("Transformer", d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
                   dim_feedforward=16, batch_first=batch_first)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert repr(em) == repr(tm)
    sshape, tshape = ((2, 6, 8), (2, 4, 8)) if batch_first else ((6, 2, 8), (4, 2, 8))
    (es, et), (ts, tt) = _leaves(rng.standard_normal(sshape), rng.standard_normal(tshape))
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    skpm = np.zeros((2, 6), bool)
    skpm[1, 5:] = True
    eo = em(es, et, tgt_mask=ember.tensor(tgt_mask.numpy()),
            src_key_padding_mask=ember.tensor(skpm), memory_key_padding_mask=ember.tensor(skpm))
    to = tm(ts, tt, tgt_mask=tgt_mask, src_key_padding_mask=torch.tensor(skpm),
            memory_key_padding_mask=torch.tensor(skpm))
    assert_close(eo, to, atol=ATOL)
    _loss(ember, [eo]).backward()
    _loss(torch, [to]).backward()
    _check_grads([es, et], [ts, tt], em, tm)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        em(es, et[:1] if batch_first else et[:, :1])
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal"):
        em(es[..., :4], et)


def test_encoder_inference_with_padding_zeroes_padded_positions_like_torch():
    """torch's inference path runs padded batches as nested tensors: padded
    positions come out as zeros (then the final norm)."""
    rng = np.random.default_rng(7)
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True).double()
    tm = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(8).double()).eval()
    elayer = ember.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True).double()
    em = ember.nn.TransformerEncoder(elayer, 2, norm=ember.nn.LayerNorm(8).double()).eval()
    em.load_state_dict({k: to_ember(v) for k, v in tm.state_dict().items()})
    x = rng.standard_normal((3, 5, 8))
    kpm = np.zeros((3, 5), bool)
    kpm[0, 3:] = True
    kpm[2, 1:] = True
    with torch.no_grad(), ember.no_grad():
        to = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
        eo = em(ember.tensor(x), src_key_padding_mask=ember.tensor(kpm))
    assert_close(eo, to, atol=ATOL)
    # with autograd the ordinary path runs everywhere
    to = tm(torch.tensor(x, requires_grad=True), src_key_padding_mask=torch.tensor(kpm))
    eo = em(ember.tensor(x, requires_grad=True), src_key_padding_mask=ember.tensor(kpm))
    assert_close(eo, to, atol=ATOL)


def test_encoder_warning_and_clones():
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but self.use_nested_tensor "
                                         "is False because encoder_layer.norm_first was True"):
        enc = ember.nn.TransformerEncoder(
            ember.nn.TransformerEncoderLayer(8, 2, 16, norm_first=True), 3)
    assert len(enc.layers) == 3 and enc.layers[0] is not enc.layers[1]
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    assert np.array_equal(enc.layers[0].linear1.weight.detach().numpy(),
                          enc.layers[1].linear1.weight.detach().numpy())
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        ember.nn.TransformerEncoderLayer(8, 2, activation="tanh")


# ---------------------------------------------------------------- learning
def test_encoder_classifier_learns_first_equals_last():
    """Is the first token equal to the last? Needs attention across the sequence."""
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    V, L, D, N = 6, 8, 32, 128

    def batch():
        x = rng.integers(0, V, (N, L))
        same = rng.random(N) < 0.5
        x[same, -1] = x[same, 0]
        return ember.tensor(x), ember.tensor((x[:, 0] == x[:, -1]).astype(np.int64))

    class Classifier(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = ember.nn.Embedding(V, D)
            self.pos = ember.nn.Parameter(ember.randn(1, L, D) * 0.1)
            layer = ember.nn.TransformerEncoderLayer(D, 4, 64, dropout=0.0, batch_first=True)
            self.encoder = ember.nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
            self.head = ember.nn.Linear(D * 2, 2)

        def forward(self, x):
            h = self.encoder(self.emb(x) + self.pos)
            return self.head(ember.cat([h[:, 0], h[:, -1]], 1))

    model = Classifier()
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = ember.nn.CrossEntropyLoss()
    for _ in range(150):
        x, y = batch()
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    model.eval()
    x, y = batch()
    with ember.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    assert acc > 0.95, acc


# ---------------------------------------------------------------- on a CUDA device
try:
    from test_cuda import cuda, fake_cuda  # noqa: E402,F401 (fixtures: fake CuPy, or a real GPU)
except ImportError:
    @pytest.fixture
    def cuda():
        pytest.skip("the CUDA fixtures of tests/test_cuda.py are not there")


def test_transformer_and_attention_on_cuda_device(cuda):
    """Masks, attention weights, gradients and inference on a CUDA device
    give the CPU's values."""
    rng = np.random.default_rng(12)
    ember.manual_seed(0)
    ref = ember.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True).double()
    mref = ember.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True,
                                       add_zero_attn=True).double()
    s, t = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 4, 8))
    q, k, v = (rng.standard_normal(sh) for sh in ((4, 2, 8), (6, 2, 3), (6, 2, 5)))
    out = []
    for dev in ("cpu", "cuda"):
        m = ember.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True).double().to(dev)
        m.load_state_dict(ref.state_dict())
        se = ember.tensor(s, device=dev, requires_grad=True)
        kpm = ember.zeros(2, 5, dtype=ember.bool, device=dev)
        kpm[0, 3:] = True
        mask = ember.nn.Transformer.generate_square_subsequent_mask(4, device=dev,
                                                                    dtype=ember.float64)
        o = m(se, ember.tensor(t, device=dev), tgt_mask=mask, src_key_padding_mask=kpm)
        o.pow(2).sum().backward()
        mha = ember.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True,
                                          add_zero_attn=True).double().to(dev)
        mha.load_state_dict(mref.state_dict())
        o2, w = mha(*(ember.tensor(a, device=dev) for a in (q, k, v)),
                    key_padding_mask=ember.zeros(2, 6, dtype=ember.bool, device=dev),
                    attn_mask=ember.zeros(4, 6, dtype=ember.bool, device=dev))
        m.eval()
        with ember.no_grad():
            o3 = m.encoder(se, src_key_padding_mask=kpm)
        assert o.device.type == dev and w.device.type == dev
        out.append([a.detach().cpu().numpy() for a in (o, se.grad, o2, w, o3)])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
