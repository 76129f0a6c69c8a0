"""``torch.nn.utils.rnn``: packed sequences and padding.

A ``PackedSequence`` holds the steps of a batch of sequences, sorted by
decreasing length, stacked time step after time step: ``data`` is
``(sum(lengths), *)`` and ``batch_sizes[t]`` is the number of sequences
still running at step t. Packing and padding are one ``index_select`` each,
so gradients flow through both."""
from collections import namedtuple
from collections.abc import Iterable

import numpy as np

from ... import _backend as B
from ..._tensor import Tensor, _wrap
from ..._ops import shape as _S
from ..._ops.creation import as_tensor, full, tensor
from ..._ops.indexing import index_select, sort

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]

PackedSequence_ = namedtuple("PackedSequence_",
                             ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def bind(optional, fn):
    return None if optional is None else fn(optional)


class PackedSequence(PackedSequence_):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)``; made by
    ``pack_padded_sequence`` / ``pack_sequence``, never by hand."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError(
                    "batch_sizes should always be on CPU. Instances of PackedSequence should never "
                    "be created manually. They should be instantiated by functions like "
                    "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                    "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        if not (isinstance(data, (list, tuple)) and len(data) == 2):
            raise AssertionError("Expected data to be a list or tuple of length 2")
        return super().__new__(cls, data[0], data[1], sorted_indices, unsorted_indices)

    def pin_memory(self):
        return type(self)(self.data.pin_memory(), self.batch_sizes,
                          bind(self.sorted_indices, lambda t: t.pin_memory()),
                          bind(self.unsorted_indices, lambda t: t.pin_memory()))

    def to(self, *args, **kwargs):
        """``data.to(...)``; the index tensors follow data's device,
        ``batch_sizes`` stays on the CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        non_blocking = kwargs.get("non_blocking", False)

        def call_to(t):
            return t.to(data.device, non_blocking=non_blocking)
        return type(self)(data, self.batch_sizes, bind(self.sorted_indices, call_to),
                          bind(self.unsorted_indices, call_to))

    def cuda(self, *args, **kwargs):
        if args and not isinstance(args[0], bool) or "device" in kwargs:
            return self.to(*args, **kwargs)
        return self.to("cuda", *args, **kwargs)

    def cpu(self, *args, **kwargs):
        return self.to("cpu", *args, **kwargs)

    def double(self):
        return self.to(dtype=B.float64)

    def float(self):
        return self.to(dtype=B.float32)

    def half(self):
        return self.to(dtype=B.float16)

    def long(self):
        return self.to(dtype=B.int64)

    def int(self):
        return self.to(dtype=B.int32)

    def short(self):
        return self.to(dtype=B.int16)

    def char(self):
        return self.to(dtype=B.int8)

    def byte(self):
        return self.to(dtype=B.uint8)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return self.data.is_pinned()


def invert_permutation(permutation):
    if permutation is None:
        return None
    p = permutation._data
    inv = B.array_module(p).empty_like(p)
    inv[p] = B.array_module(p).arange(p.shape[0], dtype=p.dtype)
    return _wrap(inv)


def _index(rows, like):
    return tensor(rows, dtype=B.int64, device=like.device)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` if ``batch_first``)
    of sequences with the given lengths."""
    if isinstance(lengths, Tensor):
        lengths = lengths.to(dtype=B.int64)
    else:
        lengths = as_tensor(lengths, dtype=B.int64, device="cpu")
    if enforce_sorted:
        sorted_indices = None
    else:
        lengths, sorted_indices = sort(lengths, descending=True, stable=True)
        sorted_indices = sorted_indices.to(input.device)
        input = index_select(input, 0 if batch_first else 1, sorted_indices)
    data, batch_sizes = _pack(input, lengths, batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def _pack(input, lengths, batch_first):
    if lengths.dim() != 1:
        kind = lengths.type().split(".")[-1][:-len("Tensor")]
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{lengths.dim()}D {lengths.device.type} {kind} tensor")
    lens = lengths.cpu().numpy().astype(np.int64)
    if batch_first:
        input = _S.transpose(input, 0, 1)
    T, nb = input.shape[0], input.shape[1]
    if lens.shape[0] != nb:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lens.shape[0]} (batch_size={nb})")
    if lens.shape[0] and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    if np.any(lens[1:] > lens[:-1]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                           "pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                           "if you do not need ONNX exportability.")
    if lens.shape[0] and lens[0] > T:
        raise RuntimeError(f"Expected sequence length to be smaller than or equal to the length "
                           f"of the input, but got {lens[0]} and {T}")
    steps = np.arange(lens[0] if lens.shape[0] else 0)
    running = steps[:, None] < lens[None, :]             # (T_max, B), a prefix of each row
    rows = np.flatnonzero(running)                        # time-major (t, b) positions
    flat = input.reshape((T * nb,) + tuple(input.shape[2:]))
    data = index_select(flat, 0, _index(rows, input))
    return data, tensor(running.sum(1), dtype=B.int64)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of ``pack_padded_sequence``: ``(padded, lengths)``, in the
    batch's original order."""
    batch_sizes = sequence.batch_sizes.numpy().astype(np.int64)
    max_len = batch_sizes.shape[0]
    if total_length is not None:
        if total_length < max_len:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {max_len}")
        max_len = total_length
    data = sequence.data
    nb = int(batch_sizes[0]) if batch_sizes.shape[0] else 0
    running = np.zeros((max_len, nb), dtype=bool)
    running[:batch_sizes.shape[0]] = np.arange(nb)[None, :] < batch_sizes[:, None]
    # each (t, b) reads its packed row, or the padding row appended at the end
    src = np.full((max_len, nb), data.shape[0], dtype=np.int64)
    src[running] = np.arange(data.shape[0])
    if batch_first:
        src = src.T
    pad_row = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype,
                   device=data.device)
    padded = index_select(_S.cat([data, pad_row]), 0, _index(src.reshape(-1), data))
    padded = padded.view(src.shape + tuple(data.shape[1:]))
    lengths = tensor(running.sum(0), dtype=B.int64)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        padded = index_select(padded, 0 if batch_first else 1, unsorted)
        lengths = lengths[unsorted.cpu()]
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)``
    if ``batch_first``), padding each on its ``padding_side``."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of "
                           f"type: {type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    trailing = tuple(sequences[0].shape[1:])
    for s in sequences[1:]:
        ts = tuple(s.shape[1:])
        if ts != trailing:
            for i in range(1, min(len(ts), len(trailing)) + 1):
                if ts[-i] != trailing[-i]:
                    raise RuntimeError(f"The size of tensor a ({trailing[-i]}) must match the size "
                                       f"of tensor b ({ts[-i]}) at non-singleton dimension "
                                       f"{len(trailing) - i + 1}")
            raise RuntimeError(f"expand(torch.{s.type().split('.')[-1]}{{{list(s.shape)}}}, "
                               f"size={list((s.shape[0],) + trailing)}): the number of sizes "
                               f"provided ({len(trailing) + 1}) must be greater or equal to the "
                               f"number of dimensions in the tensor ({s.dim()})")
    lens = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    nb, max_len, total = len(sequences), int(lens.max()), int(lens.sum())
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    pos = np.arange(max_len)[None, :]                      # (B, max L) source rows
    if padding_side == "left":
        pos = pos - (max_len - lens)[:, None]
    src = np.where((pos >= 0) & (pos < lens[:, None]), starts[:, None] + pos, total)
    if not batch_first:
        src = src.T
    ref = sequences[0]
    pad_row = full((1,) + trailing, padding_value, dtype=ref.dtype, device=ref.device)
    out = index_select(_S.cat(list(sequences) + [pad_row]), 0, _index(src.reshape(-1), ref))
    return out.view(src.shape + trailing)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The sequences of a padded batch, each cut to its length. As in torch,
    a time-major ``padded_sequences`` is transposed in place."""
    from ..._ops.creation import arange
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    idx = arange(padded_sequences.shape[1], device=lengths.device)
    return [seq[idx < length] for seq, length in zip(padded_sequences, lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences ``(L_i, *)`` (longest first unless
    ``enforce_sorted=False``)."""
    lengths = as_tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
