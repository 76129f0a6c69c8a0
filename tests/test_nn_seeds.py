"""The seed programs' models (shared/seeds) written as users write them, run
with ``import ember as torch`` next to real torch: same weights in, same
outputs, gradients and training losses out."""
import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, to_ember, to_torch


def copy_weights(e_model, t_model):
    e_model.load_state_dict({k: to_ember(v) for k, v in t_model.state_dict().items()})


# ---------------------------------------------------------------- seed 004: Network
def make_network(lib):
    """seed 004: hidden layers in a ModuleList, dropout after each."""
    nn, F = lib.nn, lib.nn.functional

    class Network(nn.Module):
        def __init__(self, input_size, output_size, hidden_layers, drop_p=0.5):
            super().__init__()
            self.hidden_layers = nn.ModuleList([nn.Linear(input_size, hidden_layers[0])])
            layer_sizes = zip(hidden_layers[:-1], hidden_layers[1:])
            self.hidden_layers.extend([nn.Linear(h1, h2) for h1, h2 in layer_sizes])
            self.output = nn.Linear(hidden_layers[-1], output_size)
            self.dropout = nn.Dropout(p=drop_p)

        def logits(self, x):
            for linear in self.hidden_layers:
                x = F.relu(linear(x))
                x = self.dropout(x)
            return self.output(x)

        def forward(self, x):
            return F.log_softmax(self.logits(x), dim=1)

    return Network(784, 10, [516, 256], drop_p=0.5)


def test_seed004_network_structure():
    t, e = make_network(torch), make_network(ember)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert sum(p.numel() for p in e.parameters()) == sum(p.numel() for p in t.parameters())


def test_seed004_network_eval_matches_and_dropout_trains():
    t, e = make_network(torch), make_network(ember)
    copy_weights(e, t)
    x = np.random.default_rng(0).random((16, 784), dtype=np.float32)
    t.eval()
    e.eval()
    assert_close(e.logits(ember.tensor(x)), t.logits(torch.tensor(x)), rtol=1e-4, atol=1e-5)
    ex = ember.tensor(x)
    e.train()
    ember.manual_seed(0)
    a = e.logits(ex)
    b = e.logits(ex)
    assert not bool((a == b).all())  # dropout is random in training
    e.eval()
    assert bool((e.logits(ex) == e.logits(ex)).all())


@pytest.mark.skipif(not hasattr(ember.nn, "NLLLoss"),
                    reason="needs nn.NLLLoss and F.log_softmax (ember/_ops/nn.py, the losses "
                           "helper)")
def test_seed004_network_trains_like_torch():
    t, e = make_network(torch), make_network(ember)
    copy_weights(e, t)
    t.eval()
    e.eval()  # dropout off: the two runs see the same function
    rng = np.random.default_rng(1)
    x = rng.random((32, 784), dtype=np.float32)
    y = rng.integers(0, 10, 32)
    topt = torch.optim.Adam(t.parameters(), lr=1e-3)
    eopt = ember.optim.Adam(e.parameters(), lr=1e-3)
    for _ in range(5):
        for lib, model, opt in ((torch, t, topt), (ember, e, eopt)):
            opt.zero_grad()
            loss = lib.nn.NLLLoss()(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            opt.step()
        # Adam moves each weight by about lr whatever its gradient's size, so a
        # near-zero gradient rounded differently may move it differently: allow
        # a fifth of a step
        assert_close(e.output.weight, t.output.weight, rtol=1e-4, atol=2e-4)


# ---------------------------------------------------------------- seed 000: SimpleNN
def make_simple_nn(lib):
    """seed 000: a flattened 100x100 image through two Linear layers."""
    nn = lib.nn

    class SimpleNN(nn.Module):
        def __init__(self):
            super(SimpleNN, self).__init__()
            self.fc = nn.Sequential(
                nn.Linear(10000, 500),
                nn.Linear(500, 10))

        def forward(self, x):
            x = x.view(x.size(0), -1)
            return self.fc(x)

    return SimpleNN()


def test_seed000_simple_nn_train_validate_and_reload(tmp_path):
    t, e = make_simple_nn(torch), make_simple_nn(ember)
    assert repr(e) == repr(t)
    copy_weights(e, t)
    rng = np.random.default_rng(2)
    X = rng.random((8, 100, 100, 1)).astype(np.float32)
    Y = rng.integers(0, 7, (8, 10)).astype(np.float32)
    topt = torch.optim.Adam(t.parameters(), lr=1e-4)
    eopt = ember.optim.Adam(e.parameters(), lr=1e-4)
    for step in range(3):
        xb, yb = X[step * 2:step * 2 + 4], Y[step * 2:step * 2 + 4]
        losses = []
        for lib, model, opt in ((torch, t, topt), (ember, e, eopt)):
            model.train()
            y_hat = model(lib.tensor(xb))
            loss = ((lib.tensor(yb) - y_hat) ** 2).mean()  # the seed's MSELoss
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert abs(losses[0] - losses[1]) < 1e-4 * max(1.0, abs(losses[0]))
    for lib, model in ((torch, t), (ember, e)):
        model.eval()
    with ember.no_grad():
        ev = e(ember.tensor(X))
    assert_close(ev, t(torch.tensor(X)).detach(), rtol=1e-3, atol=1e-4)
    # save and load as the seed does
    path = tmp_path / "randmodel.model"
    e.cpu()
    ember.save(e.state_dict(), path)
    model2 = make_simple_nn(ember)
    assert repr(model2.load_state_dict(ember.load(path))) == "<All keys matched successfully>"
    assert_close(model2(ember.tensor(X[:2])), to_torch(e(ember.tensor(X[:2]))))
    t2 = make_simple_nn(torch)
    t2.load_state_dict(torch.load(path))  # the file is torch's format
    assert_close(e(ember.tensor(X[:2])), t2(torch.tensor(X[:2])), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- seed 002: diabetes MLP
def make_diabetes_model(lib):
    """seed 002 (7_diabetes1.py): three Linear layers with sigmoids."""
    class Model(lib.nn.Module):
        def __init__(self):
            super(Model, self).__init__()
            self.linear1 = lib.nn.Linear(8, 6)
            self.linear2 = lib.nn.Linear(6, 4)
            self.linear3 = lib.nn.Linear(4, 1)
            self.sigmoid = lib.nn.Sigmoid()

        def forward(self, x):
            x = self.sigmoid(self.linear1(x))
            x = self.sigmoid(self.linear2(x))
            x = self.sigmoid(self.linear3(x))
            return x

    return Model()


@pytest.mark.skipif(not hasattr(ember.nn, "BCELoss"),
                    reason="needs nn.BCELoss (ember/nn/modules/loss.py, the losses helper)")
def test_seed002_diabetes_mlp_trains_like_torch():
    rng = np.random.default_rng(3)
    xy = np.concatenate([rng.uniform(-1, 1, (759, 8)), rng.integers(0, 2, (759, 1))],
                        axis=1).astype(np.float32)
    t, e = make_diabetes_model(torch), make_diabetes_model(ember)
    copy_weights(e, t)
    runs = {}
    for lib, model in ((torch, t), (ember, e)):
        x_data = lib.from_numpy(xy[:, :-1])
        y_data = lib.from_numpy(xy[:, [-1]])
        criterion = lib.nn.BCELoss(size_average=True)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        losses = []
        for epoch in range(100):
            y_pred = model(x_data)
            loss = criterion(y_pred, y_data)
            losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        runs[lib] = losses
    np.testing.assert_allclose(runs[ember], runs[torch], rtol=1e-4)
    assert runs[ember][-1] < runs[ember][0]


def test_seed002_diabetes_forward_backward():
    """Without the loss module: the model's output and gradients agree."""
    t, e = make_diabetes_model(torch), make_diabetes_model(ember)
    assert repr(e) == repr(t)
    copy_weights(e, t)
    x = np.random.default_rng(4).uniform(-1, 1, (20, 8)).astype(np.float32)
    to, eo = t(torch.tensor(x)), e(ember.tensor(x))
    assert_close(eo, to, rtol=1e-5)
    to.sum().backward()
    eo.sum().backward()
    for (n, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
        assert_close(ep.grad, tp.grad, rtol=1e-5, atol=1e-7)
