"""The main job: `ember demo` end to end (short and full length), and its command line."""

import os
import subprocess
import sys

import pytest
from PIL import Image

import ember
from ember.__main__ import main
from ember.demo import DigitsCNN
from ember.vision import datasets, transforms


def _run(tmp_path, capsys, *extra):
    assert main(["demo", "--out", str(tmp_path), *extra]) == 0
    return capsys.readouterr().out


def test_demo_short_run_writes_everything(tmp_path, capsys):
    out = _run(tmp_path, capsys, "--epochs", "2", "--batch-size", "64", "--seed", "1")
    assert "epoch  1/2" in out and "epoch  2/2" in out and "test accuracy:" in out
    ckpt = tmp_path / "digits_cnn.pt"
    model = DigitsCNN()
    model.load_state_dict(ember.load(str(ckpt)))
    assert tuple(model.eval()(ember.zeros(3, 1, 8, 8)).shape) == (3, 10)
    for name in ("curves.png", "predictions.png"):
        with Image.open(tmp_path / name) as im:
            assert im.format == "PNG" and im.size[0] > 300 and im.size[1] > 150


def test_demo_is_reproducible(tmp_path, capsys):
    a = _run(tmp_path / "a", capsys, "--epochs", "1", "--seed", "3")
    b = _run(tmp_path / "b", capsys, "--epochs", "1", "--seed", "3")
    strip = [line for line in a.splitlines() if "trained in" not in line and "saved the model" not in line]
    assert strip == [
        line for line in b.splitlines() if "trained in" not in line and "saved the model" not in line
    ]


def test_demo_full_length_accuracy(tmp_path, capsys):
    """The default run reaches 97 % on the 360 test digits; the saved model scores the same."""
    out = _run(tmp_path, capsys)
    acc = float(out.split("test accuracy: ")[1].split("%")[0])
    assert acc >= 97.0, out
    model = DigitsCNN()
    model.load_state_dict(ember.load(str(tmp_path / "digits_cnn.pt")))
    model.eval()
    test = datasets.Digits(
        train=False,
        transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]),
    )
    x = ember.stack([test[i][0] for i in range(len(test))])
    with ember.no_grad():
        right = (model(x).argmax(1) == test.targets).sum().item()
    assert f"({right}/360)" in out


HISTORY = {
    "train_loss": [2.0, 1.0, 0.5],
    "train_acc": [0.3, 0.7, 0.9],
    "val_loss": [1.5, 0.8, 0.4],
    "val_acc": [0.5, 0.8, 0.95],
}


@pytest.mark.parametrize("backend", ["pillow", "matplotlib"])
def test_pictures(tmp_path, monkeypatch, backend):
    from ember import demo

    if backend == "pillow":
        monkeypatch.setattr(demo, "_have_matplotlib", lambda: False)
    else:
        pytest.importorskip("matplotlib")
    test = datasets.Digits(
        train=False,
        transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]),
    )
    preds = test.targets.clone()
    preds[1] = (preds[1] + 1) % 10  # one wrong, drawn in red
    demo.plot_curves(HISTORY, tmp_path / "c.png")
    demo.plot_predictions(test, preds, tmp_path / "p.png")
    for name in ("c.png", "p.png"):
        with Image.open(tmp_path / name) as im:
            rgb = im.convert("RGB")
            assert im.format == "PNG" and im.size[0] > 300
            colors = {c for _, c in rgb.getcolors(1 << 20)}
            assert len(colors) > 10  # more than a blank canvas
    with Image.open(tmp_path / "p.png") as im:
        assert any(r > 150 and g < 80 and b < 80 for _, (r, g, b) in im.convert("RGB").getcolors(1 << 20))


def test_cli_help_and_module_entry():
    r = subprocess.run(
        [sys.executable, "-m", "ember", "demo", "--help"],
        capture_output=True,
        text=True,
        cwd=os.path.dirname(__file__),
    )
    assert r.returncode == 0
    for opt in ("--epochs", "--batch-size", "--lr", "--device", "--out", "--seed"):
        assert opt in r.stdout
    r = subprocess.run([sys.executable, "-m", "ember"], capture_output=True, text=True)
    assert r.returncode == 2 and "demo" in r.stdout
    with pytest.raises(SystemExit):
        main(["demo", "--epochs", "many"])


@pytest.mark.parametrize("device,message", [("cuda", "no CUDA device here"),
                                            ("tpu", "--device tpu: Expected one of")])
def test_cli_refuses_an_unusable_device(no_cuda_here, device, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(["demo", "--device", device, "--epochs", "1"])
    assert e.value.code == 2 and message in capsys.readouterr().err


@pytest.fixture
def no_cuda_here(monkeypatch):
    monkeypatch.setattr(ember.cuda, "is_available", lambda: False)
