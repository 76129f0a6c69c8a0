"""Save at best, then resume: the checkpoint pattern of the seeds, on ember.

A small regression network trains for a few epochs. After every epoch the
script saves a checkpoint (model and optimizer ``state_dict``, epoch, best
validation loss, random state) and, when the validation loss improved, also
``best.pt`` ("save at best"). A second run then starts from nothing but the
checkpoint of an earlier epoch -- a fresh model and optimizer, as after a
crash -- and continues: its losses equal those of the uninterrupted run,
digit for digit, because the optimizer's moments and the random state
(batch order, dropout) are restored along with the weights.

    python examples/checkpoint_resume.py [--epochs 6] [--resume-from 3] [--dir DIR]

The files are PyTorch checkpoints: ``torch.load`` reads them. The same code
runs on PyTorch with ``import torch`` in place of ``import ember as torch``.
"""
import argparse
import os
import sys
import tempfile

import ember as torch
from ember import nn


def make_data(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 8, generator=g)
    w = torch.randn(8, 1, generator=g)
    Y = X @ w + 0.1 * torch.randn(n, 1, generator=g)
    return X[:192], Y[:192], X[192:], Y[192:]


def make_model():
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 1))


def train_one_epoch(model, optimizer, loss_fn, X, Y, batch_size=32):
    model.train()
    order = torch.randperm(len(X))
    total = 0.0
    for i in range(0, len(X), batch_size):
        idx = order[i:i + batch_size]
        loss = loss_fn(model(X[idx]), Y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(X)


def evaluate(model, loss_fn, X, Y):
    model.eval()
    with torch.no_grad():
        return loss_fn(model(X), Y).item()


def save_checkpoint(path, model, optimizer, epoch, best_val_loss):
    torch.save({"epoch": epoch,
                "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(),
                "best_val_loss": best_val_loss,
                "rng_state": torch.get_rng_state()}, path)


def train(epochs, folder, resume_from=None):
    """Train until ``epochs``: from scratch, or from the checkpoint file
    ``resume_from``. Returns ``{epoch: (train loss, validation loss)}``."""
    X, Y, vX, vY = make_data()
    if resume_from is None:
        torch.manual_seed(0)
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.MSELoss()
    first_epoch, best = 1, float("inf")
    if resume_from is not None:
        checkpoint = torch.load(resume_from)   # weights_only: tensors and plain data only
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        torch.set_rng_state(checkpoint["rng_state"])
        first_epoch, best = checkpoint["epoch"] + 1, checkpoint["best_val_loss"]
    history = {}
    for epoch in range(first_epoch, epochs + 1):
        train_loss = train_one_epoch(model, optimizer, loss_fn, X, Y)
        val_loss = evaluate(model, loss_fn, vX, vY)
        history[epoch] = (train_loss, val_loss)
        save_checkpoint(os.path.join(folder, f"checkpoint_epoch{epoch}.pt"), model, optimizer,
                        epoch, min(best, val_loss))
        if val_loss < best:   # save at best
            best = val_loss
            save_checkpoint(os.path.join(folder, "best.pt"), model, optimizer, epoch, best)
    return history


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--resume-from", type=int, default=3, help="epoch to resume after")
    parser.add_argument("--dir", default=None, help="checkpoint folder (default: a temporary one)")
    args = parser.parse_args(argv)
    if not 1 <= args.resume_from < args.epochs:
        parser.error("--resume-from must lie in [1, epochs)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or tmp
        os.makedirs(folder, exist_ok=True)
        full = train(args.epochs, folder)
        resumed_dir = os.path.join(folder, "resumed")
        os.makedirs(resumed_dir, exist_ok=True)
        resumed = train(args.epochs, resumed_dir,
                        os.path.join(folder, f"checkpoint_epoch{args.resume_from}.pt"))

        print("epoch   train loss    val loss   | resumed train    val")
        for epoch, (tl, vl) in full.items():
            again = resumed.get(epoch)
            tail = f"   {again[0]:.8f}  {again[1]:.8f}" if again else "   (before the resume)"
            print(f"{epoch:5d}   {tl:.8f}  {vl:.8f} |{tail}")
        identical = all(resumed[e] == full[e] for e in resumed)
        print("resumed losses identical:", identical)

        best = torch.load(os.path.join(folder, "best.pt"))
        model = make_model()
        model.load_state_dict(best["model_state_dict"])
        _, _, vX, vY = make_data()
        val = evaluate(model, nn.MSELoss(), vX, vY)
        print(f"best.pt: epoch {best['epoch']}, validation loss {val:.8f}")
        return 0 if identical and val == best["best_val_loss"] else 1


if __name__ == "__main__":
    sys.exit(main())
