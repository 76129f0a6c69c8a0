"""``torch.nn``: modules, parameters, functional forms, initialisation."""
from .parameter import Parameter, Buffer, UninitializedParameter
from .modules import (Module, Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict,
                      Identity, Linear, Bilinear, LazyLinear, Threshold, ReLU, RReLU, Hardtanh,
                      ReLU6, Sigmoid, Hardsigmoid, Tanh, SiLU, Mish, Hardswish, ELU, CELU, SELU,
                      GLU, GELU, Hardshrink, LeakyReLU, LogSigmoid, Softplus, Softshrink, PReLU,
                      Softsign, Tanhshrink, Softmin, Softmax, Softmax2d, LogSoftmax, Dropout,
                      Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout,
                      Embedding, EmbeddingBag, PairwiseDistance, CosineSimilarity, Flatten,
                      Unflatten, LocalResponseNorm, LayerNorm, GroupNorm, RMSNorm, BatchNorm1d,
                      BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d)
# conv, pooling, losses: see ember/_ops/nn.py
from . import functional, init, utils, parameter, modules  # noqa: E402
from .modules import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell  # noqa: E402
