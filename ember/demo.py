"""The main job: train a small CNN on the bundled UCI digits, the PyTorch way.

`ember demo` (or `python -m ember demo`) reads the 8x8 handwritten digits shipped with
ember (ember.vision.datasets.Digits: 1437 training images, 144 of them held out for
validation, and 360 test images), trains on randomly shifted copies with a DataLoader,
Adam and a progress bar per epoch, validates after each epoch, keeps the best weights
(ember.save), reports the test accuracy, and draws the learning curves and a grid of test
digits with their predicted labels (with matplotlib when it is installed, else with Pillow).
"""
import argparse
import os
import random
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm.auto import tqdm

import ember
from ember import nn
from ember.utils.data import DataLoader, random_split, Subset
from ember.vision import datasets, transforms, utils

MEAN, STD = (0.5,), (0.5,)


class DigitsCNN(nn.Module):
    """Two 3x3 convolutions with batch norm and a 2x2 max pool, then a two-layer
    classifier with dropout (1x8x8 -> 10 logits)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, padding=1), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 4 * 4, 128), nn.ReLU(inplace=True),
            nn.Dropout(0.25), nn.Linear(128, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def build_parser(parser=None):
    parser = parser or argparse.ArgumentParser(prog="ember demo")
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--epochs", type=int, default=12, metavar="N",
                        help="passes over the training set (default: 12)")
    parser.add_argument("--batch-size", type=int, default=32, metavar="N",
                        help="images per optimizer step (default: 32)")
    parser.add_argument("--lr", type=float, default=2e-3, metavar="LR",
                        help="Adam learning rate, annealed to 0 over the epochs (default: 0.002)")
    parser.add_argument("--device", default="cpu", metavar="DEV",
                        help="where to train: cpu, cuda or cuda:N (CUDA needs CuPy and a GPU; default: cpu)")
    parser.add_argument("--out", default="ember-demo", metavar="DIR",
                        help="folder for digits_cnn.pt, curves.png and predictions.png "
                             "(default: ./ember-demo)")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="seed for the weights, the validation split and the shuffling (default: 0)")
    return parser


def evaluate(model, loader, device, loss_fn):
    """Mean loss, accuracy and the predictions over ``loader``."""
    model.eval()
    total_loss, correct, preds = 0.0, 0, []
    with ember.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            out = model(x)
            total_loss += loss_fn(out, y).item() * len(y)
            pred = out.argmax(dim=1)
            correct += (pred == y).sum().item()
            preds.append(pred.cpu())
    n = len(loader.dataset)
    return total_loss / n, correct / n, ember.cat(preds)


def train(args):
    """Run the demo with the options of ``build_parser``; returns the results."""
    threads = ember.get_num_threads()
    # the matrices here are small: extra BLAS threads would mostly wait on each other
    ember.set_num_threads(1)
    try:
        return _train(args)
    finally:
        ember.set_num_threads(threads)


def _train(args):
    ember.manual_seed(args.seed)
    random.seed(args.seed)
    device = ember.device(args.device)
    os.makedirs(args.out, exist_ok=True)

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    # shifting the digits by up to a pixel makes the net robust to other writers' placement
    augment = transforms.Compose([transforms.RandomCrop(8, padding=1), tf])
    test_set = datasets.Digits(train=False, transform=tf)
    train_idx, val_idx = random_split(range(datasets.digits.N_TRAIN), [datasets.digits.N_TRAIN - 144, 144],
                                      generator=ember.Generator().manual_seed(args.seed))
    train_set = Subset(datasets.Digits(train=True, transform=augment), train_idx.indices)
    val_set = Subset(datasets.Digits(train=True, transform=tf), val_idx.indices)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=256)
    test_loader = DataLoader(test_set, batch_size=256)

    model = DigitsCNN().to(device)
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = ember.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(args.epochs, 1))
    loss_fn = nn.CrossEntropyLoss()
    ckpt = os.path.join(args.out, "digits_cnn.pt")
    print(f"training {type(model).__name__} ({sum(p.numel() for p in model.parameters()):,} parameters) on "
          f"{len(train_set)} digits, validating on {len(val_set)}, device {device}")

    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    best = -1.0
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        seen, loss_sum, correct = 0, 0.0, 0
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{args.epochs}", leave=False, unit="batch")
        for x, y in bar:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            seen += len(y)
            loss_sum += loss.item() * len(y)
            correct += (out.argmax(dim=1) == y).sum().item()
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.1%}")
        scheduler.step()
        val_loss, val_acc, _ = evaluate(model, val_loader, device, loss_fn)
        for k, v in zip(history, (loss_sum / seen, correct / seen, val_loss, val_acc)):
            history[k].append(v)
        mark = ""
        if val_acc > best:
            best = val_acc
            ember.save(model.state_dict(), ckpt)
            mark = "  (saved)"
        print(f"epoch {epoch:2d}/{args.epochs}  train loss {loss_sum / seen:.4f} acc {correct / seen:6.1%}  "
              f"val loss {val_loss:.4f} acc {val_acc:6.1%}{mark}")

    if os.path.exists(ckpt):
        model.load_state_dict(ember.load(ckpt, map_location=device))
    test_loss, test_acc, preds = evaluate(model, test_loader, device, loss_fn)
    elapsed = time.perf_counter() - start
    n_right = round(test_acc * len(test_set))
    print(f"test accuracy: {test_acc:.2%} ({n_right}/{len(test_set)}), test loss {test_loss:.4f}, "
          f"trained in {elapsed:.1f} s")
    curves = os.path.join(args.out, "curves.png")
    grid = os.path.join(args.out, "predictions.png")
    plot_curves(history, curves)
    plot_predictions(test_set, preds, grid)
    print(f"saved the model to {ckpt}, the curves to {curves} and test predictions to {grid}")
    return {"test_acc": test_acc, "history": history, "checkpoint": ckpt, "curves": curves,
            "predictions": grid}


# ------------------------------------------------------------------ pictures
def _have_matplotlib():
    try:
        import matplotlib
        matplotlib.use("Agg")
        return True
    except ImportError:
        return False


def plot_curves(history, path):
    """Loss and accuracy per epoch, training and validation."""
    epochs = list(range(1, len(history["train_loss"]) + 1))
    if _have_matplotlib():
        import matplotlib.pyplot as plt
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
        a1.plot(epochs, history["train_loss"], label="train")
        a1.plot(epochs, history["val_loss"], label="validation")
        a1.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
        a2.plot(epochs, [100 * a for a in history["train_acc"]], label="train")
        a2.plot(epochs, [100 * a for a in history["val_acc"]], label="validation")
        a2.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
        from matplotlib.ticker import MaxNLocator
        for a in (a1, a2):
            a.xaxis.set_major_locator(MaxNLocator(integer=True))
            a.grid(alpha=0.3)
            a.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return
    img = Image.new("RGB", (900, 360), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    _pil_panel(draw, font, (40, 30, 420, 310), epochs, [history["train_loss"], history["val_loss"]], "Loss")
    accuracy = [[100 * a for a in history["train_acc"]], [100 * a for a in history["val_acc"]]]
    _pil_panel(draw, font, (500, 30, 880, 310), epochs, accuracy, "Accuracy (%)")
    draw.text((350, 335), "blue: train   orange: validation   (x: epoch)", fill="black", font=font)
    img.save(path)


def _pil_panel(draw, font, box, xs, series, title):
    x0, y0, x1, y1 = box
    values = [v for s in series for v in s] or [0.0]
    lo, hi = min(values), max(values)
    hi = hi if hi > lo else lo + 1.0
    draw.rectangle(box, outline="black")
    draw.text((x0 + 5, y0 - 18), title, fill="black", font=font)
    for frac in (0.0, 0.5, 1.0):
        y = y1 - frac * (y1 - y0)
        draw.line((x0 - 4, y, x0, y), fill="black")
        draw.text((x0 - 38, y - 6), f"{lo + frac * (hi - lo):.3g}", fill="black", font=font)
    n = max(len(xs) - 1, 1)
    if xs:
        draw.text((x0 - 2, y1 + 4), str(xs[0]), fill="black", font=font)
        draw.text((x1 - 8, y1 + 4), str(xs[-1]), fill="black", font=font)
    for s, color in zip(series, ((31, 119, 180), (255, 127, 14))):
        pts = [(x0 + i / n * (x1 - x0), y1 - (v - lo) / (hi - lo) * (y1 - y0)) for i, v in enumerate(s)]
        if len(pts) > 1:
            draw.line(pts, fill=color, width=2)
        for px, py in pts:
            draw.ellipse((px - 2, py - 2, px + 2, py + 2), fill=color)


def plot_predictions(dataset, preds, path, count=40, per_row=10):
    """The first ``count`` test digits, each titled with its prediction (red when wrong)."""
    count = min(count, len(dataset))
    images = ember.stack([dataset[i][0] for i in range(count)]) * STD[0] + MEAN[0]
    labels = dataset.targets[:count].tolist()
    predicted = preds[:count].tolist()
    if _have_matplotlib():
        import matplotlib.pyplot as plt
        rows = (count + per_row - 1) // per_row
        fig, axes = plt.subplots(rows, per_row, figsize=(per_row * 1.1, rows * 1.3))
        for i, ax in enumerate(np.ravel(axes)):
            ax.axis("off")
            if i < count:
                ax.imshow(images[i, 0].numpy(), cmap="gray_r", vmin=0, vmax=1)
                color = "black" if predicted[i] == labels[i] else "red"
                ax.set_title(str(predicted[i]), color=color, fontsize=11)
        fig.suptitle("test digits: predicted label (red = wrong)")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return
    # Pillow: the digits scaled up with make_grid, a label strip above each
    cell, pad, strip = 48, 4, 14
    big = ember.from_numpy(np.kron(1.0 - images.numpy(), np.ones((cell // 8, cell // 8), dtype=np.float32)))
    grid = utils.make_grid(big, nrow=per_row, padding=pad, pad_value=1.0)
    arr = (grid.permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    rows = (count + per_row - 1) // per_row
    canvas = Image.new("RGB", (arr.shape[1], arr.shape[0] + rows * strip + 20), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    draw.text((pad, 2), "test digits: predicted label (red = wrong)", fill="black", font=font)
    for r in range(rows):
        top_src = r * (cell + pad)
        band = arr[top_src:top_src + cell + pad]
        top_dst = 20 + r * (cell + pad + strip) + strip
        canvas.paste(Image.fromarray(band), (0, top_dst))
        for c in range(per_row):
            i = r * per_row + c
            if i < count:
                color = "black" if predicted[i] == labels[i] else "red"
                draw.text((pad + c * (cell + pad) + cell // 2 - 3, top_dst - strip + 2), str(predicted[i]),
                          fill=color, font=font)
    canvas.save(path)
