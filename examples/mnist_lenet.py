"""LeNet-5 on MNIST, written as a PyTorch + torchvision script with ember swapped in.

    python examples/mnist_lenet.py --root DATA [--download] [--epochs 2] [--limit 20000]

DATA is a folder holding (or, with --download, receiving) MNIST/raw/*-ubyte(.gz), the
layout torchvision uses; set EMBER_DATASETS_MIRRORS to download from a mirror of your own.
"""
import argparse

import ember as torch
import ember.nn as nn
import ember.vision as torchvision
from ember.utils.data import DataLoader, Subset
from ember.vision import transforms


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--download", action="store_true")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=20000, help="training images used (default: 20000)")
    args = parser.parse_args()

    torch.manual_seed(0)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train_set = torchvision.datasets.MNIST(args.root, train=True, download=args.download, transform=tf)
    test_set = torchvision.datasets.MNIST(args.root, train=False, transform=tf)
    subset = Subset(train_set, range(min(args.limit, len(train_set))))
    train_loader = DataLoader(subset, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=500)

    model = torchvision.models.lenet()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        model.train()
        for step, (images, labels) in enumerate(train_loader):
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            if step % 100 == 0:
                print(f"epoch {epoch + 1} step {step:4d} loss {loss.item():.4f}")
        model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in test_loader:
                correct += (model(images).argmax(1) == labels).sum().item()
        print(f"epoch {epoch + 1}: test accuracy {correct / len(test_set):.2%}")


if __name__ == "__main__":
    main()
