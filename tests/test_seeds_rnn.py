"""The seeds' recurrent examples, written as the seeds write them
(``002_a7f4cab7820dcfb1.txt`` sections 12-13, ``000_9fc3fe1525d29f5f.txt``
"RNN layers (LSTM, GRU)"), run on ember and checked against torch."""
import numpy as np
import pytest
import torch as real_torch

import ember
from oracle import assert_close, to_ember


def _copy_weights(emodel, tmodel):
    emodel.load_state_dict({k: to_ember(v) for k, v in tmodel.state_dict().items()})


# ---------------------------------------------------------------- 002 section 12: RNN cell
@pytest.mark.parametrize("torch", [ember, real_torch], ids=["ember", "torch"])
def test_seed002_rnncell_loop(torch, capsys):
    batch_size, seq_len, input_size, hidden_size = 1, 3, 4, 2
    cell = torch.nn.RNNCell(input_size=input_size, hidden_size=hidden_size)
    dataset = torch.randn(seq_len, batch_size, input_size)
    hidden = torch.zeros(batch_size, hidden_size)
    for idx, input in enumerate(dataset):
        print('=' * 20, idx, '=' * 20)
        print('Input size: ', input.shape)
        hidden = cell(input, hidden)
        print('hidden size: ', hidden.shape)
        print(hidden)
    out = capsys.readouterr().out
    assert out.count("Input size:  torch.Size([1, 4])") == 3
    assert out.count("hidden size:  torch.Size([1, 2])") == 3
    assert "grad_fn=<" in out


def test_seed002_rnncell_loop_matches_torch():
    tcell = real_torch.nn.RNNCell(4, 2)
    ecell = ember.nn.RNNCell(4, 2)
    _copy_weights(ecell, tcell)
    data = np.random.default_rng(0).standard_normal((3, 1, 4)).astype(np.float32)
    th, eh = real_torch.zeros(1, 2), ember.zeros(1, 2)
    for x in data:
        th = tcell(real_torch.tensor(x), th)
        eh = ecell(ember.tensor(x), eh)
        assert_close(eh, th, atol=1e-6)


# ---------------------------------------------------------------- 002 section 12: RNN network
@pytest.mark.parametrize("batch_first", [False, True])
def test_seed002_rnn_network_shapes_and_values(batch_first, capsys):
    batch_size, seq_len, input_size, hidden_size, num_layers = 1, 3, 4, 2, 1
    tcell = real_torch.nn.RNN(input_size=input_size, hidden_size=hidden_size,
                              num_layers=num_layers, batch_first=batch_first)
    ecell = ember.nn.RNN(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                         batch_first=batch_first)
    _copy_weights(ecell, tcell)
    shape = (batch_size, seq_len, input_size) if batch_first else (seq_len, batch_size, input_size)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    for torch, cell in ((ember, ecell), (real_torch, tcell)):
        inputs = torch.tensor(x)
        hidden = torch.zeros(num_layers, batch_size, hidden_size)
        out, hidden = cell(inputs, hidden)
        print('Output size:', out.shape)
        print('Hidden size: ', hidden.shape)
        if torch is ember:
            eout, ehidden = out, hidden
    assert_close(eout, out, atol=1e-6)
    assert_close(ehidden, hidden, atol=1e-6)
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == lines[2:]
    assert lines[0] == f"Output size: torch.Size({list(shape[:2]) + [2]})"
    assert lines[1] == "Hidden size:  torch.Size([1, 1, 2])"


# ---------------------------------------------------------------- 002 section 12: hello -> ohlol
def _hello(torch, seed=None, init_from=None):
    """The seed's 12_hello_embed.py; returns (predictions per epoch, losses, model)."""
    num_class, input_size, hidden_size, embedding_size, num_layers = 4, 4, 8, 10, 2
    idx2char = ['e', 'h', 'l', 'o']
    x_data = [[1, 0, 2, 2, 3]]
    y_data = [3, 1, 2, 3, 2]
    inputs = torch.LongTensor(x_data)
    labels = torch.LongTensor(y_data)

    class Model(torch.nn.Module):
        def __init__(self):
            super(Model, self).__init__()
            self.emb = torch.nn.Embedding(input_size, embedding_size)
            self.rnn = torch.nn.RNN(input_size=embedding_size, hidden_size=hidden_size,
                                    num_layers=num_layers, batch_first=True)
            self.fc = torch.nn.Linear(hidden_size, num_class)

        def forward(self, x):
            hidden = torch.zeros(num_layers, x.size(0), hidden_size)
            x = self.emb(x)
            x, _ = self.rnn(x, hidden)
            x = self.fc(x)
            return x.view(-1, num_class)

    if seed is not None:
        torch.manual_seed(seed)
    net = Model()
    if init_from is not None:
        _copy_weights(net, init_from)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    preds, losses = [], []
    for epoch in range(15):
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        _, idx = outputs.max(dim=1)
        idx = idx.data.numpy()
        preds.append(''.join([idx2char[x] for x in idx]))
        losses.append(loss.item())
    return preds, losses, net


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seed002_hello_learns_ohlol_in_15_epochs(seed):
    preds, losses, _ = _hello(ember, seed)
    assert preds[-1] == "ohlol"
    assert losses[-1] < 0.2 < losses[0]


def test_seed002_hello_trains_like_torch():
    tpreds, tlosses, tnet = _hello(real_torch, seed=3)
    real_torch.manual_seed(3)
    init = type(tnet)()  # the same initial weights torch started from
    epreds, elosses, enet = _hello(ember, init_from=init)
    assert epreds == tpreds
    np.testing.assert_allclose(elosses, tlosses, rtol=1e-4, atol=1e-5)
    for k, v in tnet.state_dict().items():
        assert_close(enet.state_dict()[k], v, atol=1e-4, rtol=1e-3)


# ---------------------------------------------------------------- 002 section 13: name classifier
class _NameClassifier:
    """The lecture's bidirectional GRU classifier over packed, padded names."""

    @staticmethod
    def build(torch):
        class RNNClassifier(torch.nn.Module):
            def __init__(self, input_size, hidden_size, output_size, n_layers=1,
                         bidirectional=True):
                super(RNNClassifier, self).__init__()
                self.hidden_size = hidden_size
                self.n_layers = n_layers
                self.n_directions = 2 if bidirectional else 1
                self.embedding = torch.nn.Embedding(input_size, hidden_size)
                self.gru = torch.nn.GRU(hidden_size, hidden_size, n_layers,
                                        bidirectional=bidirectional)
                self.fc = torch.nn.Linear(hidden_size * self.n_directions, output_size)

            def _init_hidden(self, batch_size):
                return torch.zeros(self.n_layers * self.n_directions, batch_size,
                                   self.hidden_size)

            def forward(self, input, seq_lengths):
                input = input.t()  # B x S -> S x B
                batch_size = input.size(1)
                hidden = self._init_hidden(batch_size)
                embedding = self.embedding(input)
                gru_input = torch.nn.utils.rnn.pack_padded_sequence(embedding, seq_lengths)
                output, hidden = self.gru(gru_input, hidden)
                if self.n_directions == 2:
                    hidden_cat = torch.cat([hidden[-1], hidden[-2]], dim=1)
                else:
                    hidden_cat = hidden[-1]
                return self.fc(hidden_cat)
        return RNNClassifier(128, 16, 5, n_layers=2)


def _names():
    names = ["Maria", "Li", "Schmidt", "Nguyen", "Abe", "Rossi"]
    names.sort(key=len, reverse=True)
    lengths = [len(n) for n in names]
    seq = np.zeros((len(names), max(lengths)), dtype=np.int64)
    for i, n in enumerate(names):
        seq[i, :len(n)] = [ord(c) for c in n]
    return seq, lengths, np.array([0, 1, 2, 3, 4, 0])


def test_seed002_name_classifier_matches_torch_and_learns():
    seq, lengths, target = _names()
    tmodel = _NameClassifier.build(real_torch)
    emodel = _NameClassifier.build(ember)
    _copy_weights(emodel, tmodel)
    tout = tmodel(real_torch.tensor(seq), real_torch.tensor(lengths))
    eout = emodel(ember.tensor(seq), ember.tensor(lengths))
    assert_close(eout, tout, atol=1e-5)
    tloss = real_torch.nn.functional.cross_entropy(tout, real_torch.tensor(target))
    eloss = ember.nn.functional.cross_entropy(eout, ember.tensor(target))
    tloss.backward()
    eloss.backward()
    tparams = dict(tmodel.named_parameters())
    for n, p in emodel.named_parameters():
        assert_close(p.grad, tparams[n].grad, atol=1e-5, rtol=1e-4)
    opt = ember.optim.Adam(emodel.parameters(), lr=0.01)
    for _ in range(30):
        opt.zero_grad()
        loss = ember.nn.functional.cross_entropy(emodel(ember.tensor(seq), lengths),
                                                 ember.tensor(target))
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 * eloss.item()


# ---------------------------------------------------------------- 000: LSTM and GRU layers
def test_seed000_lstm_gru_shapes(capsys):
    torch, nn = ember, ember.nn
    LSTM_layer = nn.LSTM(100, 80, 2)
    fake_data = torch.randn(5, 3, 100)
    h0 = torch.randn(2, 3, 80)
    c0 = torch.randn(2, 3, 80)
    output, (hn, cn) = LSTM_layer(fake_data, (h0, c0))
    print("""Input shape: {}
Output shape: {}""".format(
        fake_data.shape, (output.shape, (hn.shape, cn.shape))))
    GRU_layer = nn.GRU(100, 80, 2)
    fake_data = torch.randn(5, 3, 100)
    h0 = torch.randn(2, 3, 80)
    output, hn = GRU_layer(fake_data, h0)
    print("""Input shape: {}
Output shape: {}""".format(
        fake_data.shape, (output.shape, hn.shape)))
    assert capsys.readouterr().out == (
        "Input shape: torch.Size([5, 3, 100])\n"
        "Output shape: (torch.Size([5, 3, 80]), (torch.Size([2, 3, 80]), "
        "torch.Size([2, 3, 80])))\n"
        "Input shape: torch.Size([5, 3, 100])\n"
        "Output shape: (torch.Size([5, 3, 80]), torch.Size([2, 3, 80]))\n")


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_seed000_layers_match_torch(cls):
    tm = getattr(real_torch.nn, cls)(100, 80, 2)
    em = getattr(ember.nn, cls)(100, 80, 2)
    _copy_weights(em, tm)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 3, 100)).astype(np.float32)
    h0 = rng.standard_normal((2, 3, 80)).astype(np.float32)
    c0 = rng.standard_normal((2, 3, 80)).astype(np.float32)
    if cls == "LSTM":
        to, ts = tm(real_torch.tensor(x), (real_torch.tensor(h0), real_torch.tensor(c0)))
        eo, es = em(ember.tensor(x), (ember.tensor(h0), ember.tensor(c0)))
    else:
        to, ts = tm(real_torch.tensor(x), real_torch.tensor(h0))
        eo, es = em(ember.tensor(x), ember.tensor(h0))
    assert_close(eo, to, atol=1e-5)
    assert_close(es, ts, atol=1e-5)
