"""ember.utils.tensorboard.SummaryWriter: event files read back with
TensorBoard's own reader (EventAccumulator)."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import ember
from ember.utils.tensorboard import SummaryWriter
from test_serialization import _seed_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUIDANCE = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0}


def _read(logdir):
    acc = EventAccumulator(str(logdir), size_guidance=GUIDANCE)
    acc.Reload()
    return acc


def test_scalars_from_tensors_arrays_and_numbers(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("Loss/train", ember.tensor(0.5), 1)
        w.add_scalar("Loss/train", np.float32(0.25), 2)
        w.add_scalar("Loss/train", 0.125, 3)
        w.add_scalar("Loss/train", ember.tensor([0.0625]), 4)
        w.add_scalar("acc", np.array(0.75), global_step=7, walltime=1000.0)
        w.add_scalar("new", ember.tensor(2.5), 1, new_style=True)
        w.add_scalar("newd", 1.0 / 3, 1, new_style=True, double_precision=True)
    acc = _read(tmp_path)
    loss = acc.Scalars("Loss/train")
    assert [e.step for e in loss] == [1, 2, 3, 4]
    assert [e.value for e in loss] == [0.5, 0.25, 0.125, 0.0625]
    (a,) = acc.Scalars("acc")
    assert a.step == 7 and a.value == 0.75 and a.wall_time == 1000.0
    new = acc.Tensors("new")[0].tensor_proto
    assert list(new.float_val) == [2.5]
    assert acc.Tensors("newd")[0].tensor_proto.double_val[0] == 1.0 / 3
    with pytest.raises(ValueError, match="0D"):
        SummaryWriter(tmp_path / "x").add_scalar("bad", ember.ones(3))


def test_add_scalars_writes_one_run_per_tag(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalars("run", {"a": ember.tensor(float(step)), "b": step * 2.0}, step)
    assert sorted(os.listdir(tmp_path / "run_a")) and sorted(os.listdir(tmp_path / "run_b"))
    assert [e.value for e in _read(tmp_path / "run_b").Scalars("run")] == [0.0, 2.0, 4.0]


def test_histogram_buckets(tmp_path):
    values = ember.tensor(np.random.default_rng(0).standard_normal(1000).astype(np.float32))
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("w", values, 3)
        w.add_histogram("fixed", np.array([0.1, 0.2, 0.6, 0.9]), 0, bins=np.array([0.0, 0.5, 1.0]))
    acc = _read(tmp_path)
    h = acc.Histograms("w")[0]
    assert h.step == 3
    hv = h.histogram_value
    v = values.numpy()
    assert hv.num == 1000 and sum(hv.bucket) == 1000
    assert hv.min == pytest.approx(v.min()) and hv.max == pytest.approx(v.max())
    assert hv.sum == pytest.approx(float(v.sum()), rel=1e-4)
    assert list(hv.bucket_limit) == sorted(hv.bucket_limit)
    f = acc.Histograms("fixed")[0].histogram_value
    assert sum(f.bucket) == 4 and f.bucket[-1] == 2 and f.bucket_limit[-1] == 1.0


def test_images(tmp_path):
    chw = ember.rand(3, 8, 12)
    with SummaryWriter(tmp_path) as w:
        w.add_image("chw", chw, 0)
        w.add_image("hwc", (np.ones((5, 6, 3)) * 255).astype(np.uint8), 0, dataformats="HWC")
        w.add_image("gray", ember.rand(4, 7), 0, dataformats="HW")
        w.add_images("batch", ember.rand(4, 1, 10, 10), 1)
    acc = _read(tmp_path)
    img = acc.Images("chw")[0]
    assert (img.width, img.height) == (12, 8)
    assert (acc.Images("hwc")[0].width, acc.Images("hwc")[0].height) == (6, 5)
    assert (acc.Images("gray")[0].width, acc.Images("gray")[0].height) == (7, 4)
    grid = acc.Images("batch")[0]   # a row of 4 images, as torch's make_grid lays them out
    assert grid.step == 1 and (grid.width, grid.height) == (40, 10)
    assert acc.Images("chw")[0].encoded_image_string[:4] == b"\x89PNG"


def test_text_and_tensor(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "epoch **1** done", 1)
        w.add_tensor("t", ember.arange(6).reshape(2, 3), 2)
        w.add_tensor("f", ember.tensor([1.5, -2.0]), 2)
    acc = _read(tmp_path)
    (t,) = acc.Tensors("notes/text_summary")
    assert t.step == 1 and t.tensor_proto.string_val == [b"epoch **1** done"]
    proto = acc.Tensors("t")[0].tensor_proto
    assert [d.size for d in proto.tensor_shape.dim] == [2, 3]
    assert list(proto.int64_val) == list(range(6))
    assert list(acc.Tensors("f")[0].tensor_proto.float_val) == [1.5, -2.0]


def test_hparams(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.1, "bsize": ember.tensor(32), "opt": "adam"},
                      {"hparam/accuracy": ember.tensor(0.9)},
                      hparam_domain_discrete={"opt": ["adam", "sgd"]}, run_name="trial1")
    run = tmp_path / "trial1"
    acc = _read(run)
    assert acc.Scalars("hparam/accuracy")[0].value == pytest.approx(0.9)
    from tensorboard.plugins.hparams import plugin_data_pb2
    content = acc.PluginTagToContent("hparams")
    exp = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    infos = {i.name: i for i in exp.hparam_infos}
    assert set(infos) == {"lr", "bsize", "opt"}
    assert [v.string_value for v in infos["opt"].domain_discrete.values] == ["adam", "sgd"]
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["bsize"].number_value == 32 and start.hparams["opt"].string_value == "adam"
    with pytest.raises(TypeError, match="dictionary"):
        SummaryWriter(tmp_path / "b").add_hparams([1], {})
    with pytest.raises(TypeError, match="hparam_domain_discrete"):
        SummaryWriter(tmp_path / "c").add_hparams({"a": 1}, {}, hparam_domain_discrete={"a": ["x"]})


def test_default_logdir_comment_and_suffix(tmp_path, monkeypatch):
    import socket
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1", filename_suffix=".ember")
    w.add_scalar("x", 1.0, 0)
    w.close()
    logdir = w.get_logdir()
    host = re.escape(socket.gethostname())
    assert re.fullmatch(r"runs/[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_" + host + r"_lr0\.1", logdir)
    files = os.listdir(logdir)
    assert len(files) == 1 and "tfevents" in files[0] and files[0].endswith(".ember")
    assert w.log_dir == logdir


def test_purge_step_and_flush(tmp_path):
    w = SummaryWriter(tmp_path, flush_secs=1000, max_queue=1000)
    for s in range(5):
        w.add_scalar("x", float(s), s)
    w.flush()
    assert [e.step for e in _read(tmp_path).Scalars("x")] == list(range(5))
    w.close()
    with SummaryWriter(tmp_path, purge_step=2) as w2:   # restarted at step 2
        w2.add_scalar("x", 20.0, 2)
    assert [(e.step, e.value) for e in _read(tmp_path).Scalars("x")] == [(0, 0.0), (1, 1.0),
                                                                          (2, 20.0)]


def test_pr_curve_embedding_and_raw_histogram(tmp_path):
    labels = ember.tensor([0, 1, 1, 0, 1])
    preds = ember.tensor([0.1, 0.9, 0.7, 0.3, 0.4])
    with SummaryWriter(tmp_path) as w:
        w.add_pr_curve("pr", labels, preds, 0)
        w.add_histogram_raw("raw", min=0.0, max=2.0, num=3, sum=3.0, sum_squares=5.0,
                            bucket_limits=[1.0, 2.0], bucket_counts=ember.tensor([1.0, 2.0]),
                            global_step=0)
        w.add_embedding(ember.randn(6, 4), metadata=list("abcdef"), tag="emb")
    acc = _read(tmp_path)
    assert "pr" in acc.Tags()["tensors"]
    assert list(acc.Histograms("raw")[0].histogram_value.bucket) == [1.0, 2.0]
    assert any("projector" in f for f in os.listdir(tmp_path))


def test_figure_needs_matplotlib(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    fig = plt.figure()
    plt.plot([1, 2, 3])
    with SummaryWriter(tmp_path) as w:
        w.add_figure("fig", fig, 0)
    assert _read(tmp_path).Images("fig")[0].width > 0


def test_missing_extra_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=re.escape('pip install "ember[tensorboard]"')):
        SummaryWriter(tmp_path)


def test_writer_does_not_import_torch(tmp_path):
    code = ("import sys, ember; from ember.utils.tensorboard import SummaryWriter; "
            f"w = SummaryWriter({str(tmp_path)!r}); w.add_scalar('a', ember.tensor(1.0), 0); "
            "w.add_image('i', ember.rand(3, 4, 4), 0); w.close(); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def _nn():
    if not hasattr(ember.nn, "Linear") or not hasattr(ember.nn.Module, "register_forward_hook"):
        pytest.skip("ember.nn (Linear, forward hooks) is not built yet")
    return ember.nn


def test_add_graph(tmp_path):
    nn = _nn()
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with SummaryWriter(tmp_path) as w:
        w.add_graph(model, ember.randn(5, 4))
    g = _read(tmp_path).Graph()
    names = {n.name: n for n in g.node}
    assert {"0/weight", "0/bias", "2/weight", "input/input.0", "output/output.0"} <= set(names)
    assert any(n.startswith("2/") and names[n].op not in ("Parameter",) for n in names)


def test_seed_000_tensorboard_training_loop(tmp_path, monkeypatch):
    """The seed's loop, with ``import ember as torch`` (smaller data)."""
    nn = _nn()
    if not hasattr(ember.optim, "Adam") or not hasattr(ember.nn, "MSELoss"):
        pytest.skip("ember.optim.Adam / nn.MSELoss are not built yet")
    from ember.utils.data import DataLoader, TensorDataset
    torch = ember
    monkeypatch.chdir(tmp_path)
    os.makedirs("runs", exist_ok=True)

    X = np.random.rand(40, 10, 10, 1).astype(np.float32)
    Y = np.random.randint(0, 7, [40, 10]).astype(np.float32)
    tsrdataset = TensorDataset(torch.tensor(X), torch.tensor(Y))
    tsrdataloader = DataLoader(tsrdataset, batch_size=4, shuffle=True)
    vtsrdataset = TensorDataset(torch.tensor(X[:8]), torch.tensor(Y[:8]))
    vtsrdataloader = DataLoader(vtsrdataset, batch_size=4, shuffle=False)

    SimpleNN = _seed_model(nn)   # the seed's model (10x10 inputs here)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tb = SummaryWriter()
    simpleNN = SimpleNN()
    simpleNN.to(device)
    optim = torch.optim.Adam(simpleNN.parameters(), lr=1e-4)
    criterion = nn.MSELoss()
    EPOCHS = 3
    for epoch in range(EPOCHS):
        simpleNN.train()
        epoch_loss = 0.0
        for x, y in tsrdataloader:
            y_hat = simpleNN(x.to(device))
            loss = criterion(y.to(device), y_hat)
            optim.zero_grad()
            loss.backward()
            optim.step()
            epoch_loss += loss.item()
        average_epoch_loss = epoch_loss / len(tsrdataset)
        tb.add_scalar("Loss/train", average_epoch_loss, epoch + 1)
        simpleNN.eval()
        vepoch_loss = 0.0
        for x, y in vtsrdataloader:
            y_hat = simpleNN(x.to(device))
            loss = criterion(y.to(device), y_hat)
            vepoch_loss += loss.item()
        tb.add_scalar("Loss/val", vepoch_loss / len(vtsrdataset), epoch + 1)
    tb.close()
    (run,) = os.listdir("runs")
    acc = _read(os.path.join("runs", run))
    train = acc.Scalars("Loss/train")
    assert [e.step for e in train] == [1, 2, 3] and all(np.isfinite(e.value) for e in train)
    assert len(acc.Scalars("Loss/val")) == 3
