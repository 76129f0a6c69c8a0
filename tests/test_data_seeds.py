"""The seeds' data-loading examples, run with ember as ``torch`` (and with
torch itself where batches can be compared): the RandomDataset and
TensorDataset loaders of seed 000, the CSV-driven CustomImageDataset of seed
001 (pandas) and the DiabetesDataset of seed 002. Sizes are cut down; shapes
per sample are the seeds' own."""
import os

import numpy as np
import pytest
import torch

import ember
from test_data_collate import assert_same_batches

pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create")


def dataset_classes(torch):
    """The seeds' Dataset classes, written against ``torch`` (ember or torch)."""
    from torch.utils.data import Dataset

    class RandomDataset(Dataset):  # seed 000
        def __init__(self, data, target):
            self.data = data
            self.target = target

        def __len__(self):
            assert len(self.data) == len(self.target)
            return len(self.data)

        def __getitem__(self, idx):
            return self.data[idx], self.target[idx]

    class CustomImageDataset(Dataset):  # seed 001
        def __init__(self, annotations_file, img_dir, transform=None, target_transform=None):
            import pandas as pd
            self.img_labels = pd.read_csv(annotations_file)
            self.img_dir = img_dir
            self.transform = transform
            self.target_transform = target_transform

        def __len__(self):
            return len(self.img_labels)

        def __getitem__(self, idx):
            img_path = os.path.join(self.img_dir, self.img_labels.iloc[idx, 0])
            image = read_image(torch, img_path)
            label = self.img_labels.iloc[idx, 1]
            if self.transform:
                image = self.transform(image)
            if self.target_transform:
                label = self.target_transform(label)
            return image, label

    class DiabetesDataset(Dataset):  # seed 002
        def __init__(self, filepath):
            xy = np.loadtxt(filepath, delimiter=',', dtype=np.float32)
            self.len = xy.shape[0]
            self.x_data = torch.from_numpy(xy[:, :-1])
            self.y_data = torch.from_numpy(xy[:, [-1]])

        def __getitem__(self, index):
            return self.x_data[index], self.y_data[index]

        def __len__(self):
            return self.len

    return RandomDataset, CustomImageDataset, DiabetesDataset


def read_image(torch, path):
    """torchvision.io.read_image for a grayscale PNG: a 1xHxW uint8 tensor."""
    from PIL import Image
    return torch.from_numpy(np.asarray(Image.open(path)).copy()).unsqueeze(0)


ERandom, ECustom, EDiabetes = dataset_classes(ember)
TRandom, TCustom, TDiabetes = dataset_classes(torch)


def test_seed000_random_dataset_loader():
    X = np.random.rand(40, 100, 100, 1)
    Y = np.random.randint(0, 7, [40, 10])
    randomdataset = ERandom(X.astype(np.float32), Y.astype(np.float32))
    taken_x, taken_y = randomdataset[0]
    assert (taken_x.shape, taken_y.shape) == ((100, 100, 1), (10,))
    from ember.utils.data import DataLoader
    randomdataloader = DataLoader(randomdataset, batch_size=4, shuffle=True, num_workers=4)
    for batch_x, batch_y in randomdataloader:
        shapes = (batch_x.shape, batch_y.shape)
        break
    assert shapes == (ember.Size([4, 100, 100, 1]), ember.Size([4, 10]))
    assert str(shapes) == "(torch.Size([4, 100, 100, 1]), torch.Size([4, 10]))"
    assert batch_x.dtype == ember.float32 and batch_y.dtype == ember.float32
    # unshuffled, the batches are torch's
    assert_same_batches(DataLoader(randomdataset, batch_size=4, num_workers=2),
                        torch.utils.data.DataLoader(
                            TRandom(X.astype(np.float32), Y.astype(np.float32)), batch_size=4))


def test_seed000_tensor_dataset_train_valid_test_loaders():
    from ember.utils.data import DataLoader, TensorDataset
    X = np.random.rand(24, 100, 100, 1).astype(np.float32)
    Y = np.random.randint(0, 7, [24, 10]).astype(np.float32)
    tsrX, tsrY = ember.tensor(X), ember.tensor(Y)
    tsrdataset = TensorDataset(tsrX, tsrY)
    tsrdataloader = DataLoader(tsrdataset, batch_size=4, shuffle=True, num_workers=4)
    vtsrdataloader = DataLoader(TensorDataset(tsrX, tsrY), batch_size=4, shuffle=False,
                                num_workers=4)
    seen = []
    for x, y in tsrdataloader:
        assert x.shape == (4, 100, 100, 1) and y.shape == (4, 10)
        seen.append(x)
    assert len(seen) == len(tsrdataloader) == 6
    # every sample exactly once
    got = np.sort(np.concatenate([s.numpy()[:, 0, 0, 0] for s in seen]))
    np.testing.assert_array_equal(got, np.sort(X[:, 0, 0, 0]))
    for i, (x, y) in enumerate(vtsrdataloader):
        np.testing.assert_array_equal(x.numpy(), X[4 * i:4 * i + 4])
        np.testing.assert_array_equal(y.numpy(), Y[4 * i:4 * i + 4])
    assert len(tsrdataset) == 24


@pytest.fixture
def image_folder(tmp_path):
    pytest.importorskip("pandas")
    from PIL import Image
    rng = np.random.default_rng(0)
    rows = ["file,label"]
    for i in range(70):
        Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(
            tmp_path / f"img{i}.png")
        rows.append(f"img{i}.png,{i % 10}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_seed001_custom_image_dataset_with_pandas_csv(image_folder):
    from ember.utils.data import DataLoader
    csv, img_dir = str(image_folder / "labels.csv"), str(image_folder)
    train_dataset = ECustom(csv, img_dir, transform=lambda im: im.float() / 255)
    train_dataloader = DataLoader(train_dataset, batch_size=64, shuffle=True)
    train_features, train_labels = next(iter(train_dataloader))
    assert train_features.size() == ember.Size([64, 1, 28, 28])
    assert train_labels.size() == ember.Size([64])
    assert train_labels.dtype == ember.int64  # pandas gives numpy int64 labels
    img = train_features[0].squeeze()
    assert img.shape == (28, 28) and 0 <= img.min().item() and img.max().item() <= 1
    assert len(train_dataloader.dataset) == 70 and len(train_dataloader) == 2
    # unshuffled and with workers, the batches are torch's
    assert_same_batches(DataLoader(ECustom(csv, img_dir), batch_size=64, num_workers=2),
                        torch.utils.data.DataLoader(TCustom(csv, img_dir), batch_size=64))


def test_seed002_diabetes_dataset_trains(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (120, 8)).astype(np.float32)
    y = (x @ rng.normal(size=8) > 0).astype(np.float32)
    path = tmp_path / "diabetes.csv"
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", fmt="%.6f")

    from ember.utils.data import DataLoader
    dataset = EDiabetes(str(path))
    train_loader = DataLoader(dataset=dataset, batch_size=32, shuffle=True, num_workers=2)
    assert len(train_loader) == 4

    torch_ = ember
    model = torch_.nn.Sequential(torch_.nn.Linear(8, 6), torch_.nn.Sigmoid(),
                                 torch_.nn.Linear(6, 1), torch_.nn.Sigmoid())
    optimizer = torch_.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for epoch in range(15):
        for i, data in enumerate(train_loader, 0):
            inputs, labels = data
            assert inputs.shape[1:] == (8,) and labels.shape[1:] == (1,)
            y_pred = model(inputs)
            loss = -(labels * y_pred.log() + (1 - labels) * (1 - y_pred).log()).mean()  # BCELoss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    assert np.mean(losses[-4:]) < np.mean(losses[:4])
    # unshuffled, the batches are torch's
    assert_same_batches(DataLoader(dataset, batch_size=32, num_workers=2),
                        torch.utils.data.DataLoader(TDiabetes(str(path)), batch_size=32))
