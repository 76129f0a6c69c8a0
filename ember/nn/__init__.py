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
from .modules import (  # noqa: E402
    Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, MaxPool1d,
    MaxPool2d, MaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d, AvgPool1d, AvgPool2d, AvgPool3d,
    LPPool1d, LPPool2d, LPPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d,
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, L1Loss, NLLLoss, NLLLoss2d,
    PoissonNLLLoss, GaussianNLLLoss, KLDivLoss, MSELoss, BCELoss, BCEWithLogitsLoss,
    HingeEmbeddingLoss, MultiLabelMarginLoss, SmoothL1Loss, HuberLoss, SoftMarginLoss,
    CrossEntropyLoss, MultiLabelSoftMarginLoss, CosineEmbeddingLoss, MarginRankingLoss,
    MultiMarginLoss, TripletMarginLoss, TripletMarginWithDistanceLoss, CTCLoss, CircularPad1d,
    CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d, ReflectionPad1d,
    ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d,
    ZeroPad1d, ZeroPad2d, ZeroPad3d, PixelShuffle, PixelUnshuffle, Upsample, UpsamplingNearest2d,
    UpsamplingBilinear2d, Fold, Unfold)
from . import functional, init, utils, parameter, modules  # noqa: E402
from .modules import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell  # noqa: E402
from .modules import (MultiheadAttention, Transformer, TransformerEncoder,  # noqa: E402
                      TransformerDecoder, TransformerEncoderLayer, TransformerDecoderLayer)
