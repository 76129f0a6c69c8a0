"""``SummaryWriter`` and ``FileWriter``: torch.utils.tensorboard's writer for ember.

Summaries are built by tensorboardX (the optional extra ``pip install
"ember[tensorboard]"``), which knows every kind TensorBoard shows: scalars,
histograms, images (PNG), text, audio, video, PR curves, meshes, hparams,
custom-scalar layouts, embeddings. The event files are written here, with
torch's layout: ``events.out.tfevents.<time>.<host>.<pid>.<n><suffix>``
(unique per writer), ``add_scalars`` runs in ``<log_dir>/<main_tag>_<tag>``,
``add_hparams`` runs in ``<log_dir>/<run_name>``. Events are written
synchronously and flushed every ``flush_secs`` and on ``flush()``/``close()``,
so ``flush()`` guarantees every logged value is on disk (tensorboardX's own
asynchronous writer does not). Ember tensors are turned into NumPy arrays;
NumPy arrays and Python numbers are accepted as they are.
"""
import itertools
import os
import socket
import sys
import time
import weakref
from datetime import datetime

import numpy as np

from ..._tensor import Tensor

_INSTALL = 'TensorBoard logging needs tensorboardX: pip install "ember[tensorboard]"'


def _tensorboardX():
    """Import tensorboardX (whose package import pulls in torch when it can,
    only to recognise torch tensors: that is kept out of ember's process)."""
    try:
        if "torch" in sys.modules:
            import tensorboardX
        else:
            sys.modules["torch"] = None
            try:
                import tensorboardX
            finally:
                del sys.modules["torch"]
    except ImportError as e:
        raise ImportError(f"{_INSTALL} ({e})") from e
    return tensorboardX


def _np(x):
    """Ember tensors (also in lists and tuples) as NumPy arrays."""
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, (list, tuple)) and any(isinstance(v, Tensor) for v in x):
        return np.stack([_np(v) for v in x])
    return x


def _number(x):
    """A scalar (tensor, array, NumPy or Python number) as a Python number."""
    x = _np(x)
    if isinstance(x, (np.ndarray, np.generic)):
        if x.size != 1:
            raise ValueError(f"scalar should be 0D, got an array of shape {x.shape}")
        return x.reshape(()).item()
    return x


def _default_bins():
    """TensorFlow's histogram bucket edges: +-1e-12 growing by 10% to 1e20."""
    v, pos = 1e-12, []
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-b for b in reversed(pos)] + [0] + pos


class FileWriter:
    """Writes ``Event`` protocol buffers to a new event file in ``log_dir``."""

    _counter = itertools.count()

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=""):
        _tensorboardX()
        from tensorboardX.proto import event_pb2
        from tensorboardX.record_writer import RecordWriter
        self._event_pb2 = event_pb2
        log_dir = str(log_dir)
        os.makedirs(log_dir, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(self._counter)}{filename_suffix}")
        self._log_dir = log_dir
        self._flush_secs = flush_secs
        self._records = RecordWriter(os.path.join(log_dir, name))
        self._closer = weakref.finalize(self, self._records.close)  # also at interpreter exit
        self._next_flush = time.time() + flush_secs
        self._closed = False
        self.add_event(self._event_pb2.Event(file_version="brain.Event:2"))

    def get_logdir(self):
        return self._log_dir

    def add_event(self, event, step=None, walltime=None):
        if self._closed:
            raise RuntimeError("this SummaryWriter was closed")
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self._records.write(event.SerializeToString())
        if time.time() >= self._next_flush:
            self.flush()

    def add_summary(self, summary, global_step=None, walltime=None):
        self.add_event(self._event_pb2.Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_def, walltime=None):
        self.add_event(self._event_pb2.Event(graph_def=graph_def.SerializeToString()), None,
                       walltime)

    def flush(self):
        if not self._closed:
            self._records.flush()
            self._next_flush = time.time() + self._flush_secs

    def close(self):
        if not self._closed:
            self.flush()
            self._closer()
            self._closed = True


class SummaryWriter:
    """Writes entries to event files in ``log_dir`` for TensorBoard.

    ``log_dir`` defaults to ``runs/<Mon><DD>_<HH-MM-SS>_<hostname><comment>``.
    ``purge_step`` hides the events of an earlier, crashed run from that
    step on. Events are written as they are added (there is no queue, so
    ``max_queue`` only exists for compatibility) and flushed every
    ``flush_secs`` seconds.
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=""):
        self._summary = _tensorboardX().summary
        if not log_dir:
            now = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", now + "_" + socket.gethostname() + comment)
        self.log_dir = str(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = self.all_writers = None
        self._get_file_writer()
        self.default_bins = _default_bins()

    def _get_file_writer(self):
        """The writer of ``log_dir`` (made again after ``close()``)."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs,
                                          self.filename_suffix)
            if self.purge_step is not None:
                pb = self.file_writer._event_pb2
                self.file_writer.add_event(pb.Event(file_version="brain.Event:2"),
                                           self.purge_step)
                self.file_writer.add_event(
                    pb.Event(session_log=pb.SessionLog(status=pb.SessionLog.START)),
                    self.purge_step)
                self.purge_step = None
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
        return self.file_writer

    def get_logdir(self):
        """The directory event files are written to."""
        return self.log_dir

    def _add(self, summary, global_step, walltime):
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def flush(self):
        """Write everything logged so far to disk."""
        for w in (self.all_writers or {}).values():
            w.flush()

    def close(self):
        for w in (self.all_writers or {}).values():
            w.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()

    # ------------------------------------------------------------ scalars
    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        value = _number(scalar_value)
        if not new_style:
            self._add(self._summary.scalar(tag, value), global_step, walltime)
            return
        from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboardX.proto.tensor_pb2 import TensorProto
        tensor = (TensorProto(double_val=[value], dtype="DT_DOUBLE") if double_precision
                  else TensorProto(float_val=[value], dtype="DT_FLOAT"))
        meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
        self._add(Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=meta)]),
                  global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several scalars under one chart: each tag is a run in
        ``<log_dir>/<main_tag>_<tag>``."""
        root = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            run = root + "/" + main_tag.replace("/", "_") + "_" + tag
            w = self.all_writers.get(run)
            if w is None:
                w = self.all_writers[run] = FileWriter(run, self.max_queue, self.flush_secs,
                                                       self.filename_suffix)
            w.add_summary(self._summary.scalar(main_tag, _number(value)), global_step, walltime)

    def add_tensor(self, tag, tensor, global_step=None, walltime=None):
        from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboardX.proto.tensor_pb2 import TensorProto
        from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
        a = np.asarray(_np(tensor))
        kinds = {np.float16: ("DT_HALF", "half_val"), np.float32: ("DT_FLOAT", "float_val"),
                 np.float64: ("DT_DOUBLE", "double_val"), np.int8: ("DT_INT8", "int_val"),
                 np.uint8: ("DT_UINT8", "int_val"), np.int16: ("DT_INT16", "int_val"),
                 np.int32: ("DT_INT32", "int_val"), np.int64: ("DT_INT64", "int64_val"),
                 np.bool_: ("DT_BOOL", "bool_val"), np.complex64: ("DT_COMPLEX64", "scomplex_val"),
                 np.complex128: ("DT_COMPLEX128", "dcomplex_val")}
        if a.dtype.type not in kinds:
            raise ValueError(f"{tag} has unsupported tensor dtype {a.dtype}")
        dtype, field = kinds[a.dtype.type]
        flat = a.reshape(-1)
        if a.dtype == np.float16:
            values = flat.view(np.uint16).tolist()   # TensorProto keeps halves as their bits
        elif a.dtype.kind == "c":
            values = np.stack([flat.real, flat.imag], -1).reshape(-1).tolist()
        else:
            values = flat.tolist()
        proto = TensorProto(dtype=dtype, tensor_shape=TensorShapeProto(
            dim=[TensorShapeProto.Dim(size=s) for s in a.shape]), **{field: values})
        meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="tensor"))
        self._add(Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=proto)]),
                  global_step, walltime)

    # ------------------------------------------------------------ histograms
    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self._add(self._summary.histogram(tag, np.asarray(_np(values)), _np(bins), max_bins),
                  global_step, walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits,
                          bucket_counts, global_step=None, walltime=None):
        bucket_limits, bucket_counts = _np(bucket_limits), _np(bucket_counts)
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        self._add(self._summary.histogram_raw(
            tag, _number(min), _number(max), _number(num), _number(sum), _number(sum_squares),
            list(np.asarray(bucket_limits).tolist()), list(np.asarray(bucket_counts).tolist())),
            global_step, walltime)

    # ------------------------------------------------------------ images, media
    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        self._add(self._summary.image(tag, _np(img_tensor), dataformats=dataformats),
                  global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        self._add(self._summary.image(tag, _np(img_tensor), dataformats=dataformats),
                  global_step, walltime)

    def add_image_with_boxes(self, tag, img_tensor, box_tensor, global_step=None, walltime=None,
                             rescale=1, dataformats="CHW", labels=None):
        if labels is not None:
            labels = [labels] if isinstance(labels, str) else labels
            if len(labels) != np.asarray(_np(box_tensor)).shape[0]:
                labels = None
        self._add(self._summary.image_boxes(tag, _np(img_tensor), _np(box_tensor),
                                            rescale=rescale, dataformats=dataformats,
                                            labels=labels), global_step, walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """A matplotlib figure (or a list of them) as an image."""
        from tensorboardX.utils import figure_to_image
        fmt = "NCHW" if isinstance(figure, list) else "CHW"
        self.add_image(tag, figure_to_image(figure, close), global_step, walltime,
                       dataformats=fmt)

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None):
        self._add(self._summary.video(tag, _np(vid_tensor), fps), global_step, walltime)

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        self._add(self._summary.audio(tag, _np(snd_tensor), sample_rate=sample_rate),
                  global_step, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        self._add(self._summary.text(tag, text_string), global_step, walltime)

    def add_mesh(self, tag, vertices, colors=None, faces=None, config_dict=None,
                 global_step=None, walltime=None):
        self._add(self._summary.mesh(tag, _np(vertices), _np(colors), _np(faces), config_dict),
                  global_step, walltime)

    # ------------------------------------------------------------ graphs
    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """The graph of ``model(input_to_model)`` as autograd records it: one
        node per operation (named by its ``grad_fn``, grouped by module),
        parameters named as in ``model.named_parameters()``."""
        from ._graph import graph
        self._get_file_writer().add_graph(graph(model, input_to_model, verbose))

    def add_onnx_graph(self, prototxt):
        from tensorboardX.onnx_graph import load_onnx_graph
        self._get_file_writer().add_graph(load_onnx_graph(prototxt))

    # ------------------------------------------------------------ curves, layouts
    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127,
                     weights=None, walltime=None):
        self._add(self._summary.pr_curve(tag, np.asarray(_np(labels)),
                                         np.asarray(_np(predictions)), num_thresholds,
                                         _np(weights)), global_step, walltime)

    def add_pr_curve_raw(self, tag, true_positive_counts, false_positive_counts,
                         true_negative_counts, false_negative_counts, precision, recall,
                         global_step=None, num_thresholds=127, weights=None, walltime=None):
        self._add(self._summary.pr_curve_raw(
            tag, _np(true_positive_counts), _np(false_positive_counts), _np(true_negative_counts),
            _np(false_negative_counts), _np(precision), _np(recall), num_thresholds,
            _np(weights)), global_step, walltime)

    def add_custom_scalars(self, layout):
        """``{category: {title: ["Multiline" | "Margin", tags]}}`` charts."""
        self._add(self._summary.custom_scalars(layout), None, None)

    def add_custom_scalars_multilinechart(self, tags, category="default", title="untitled"):
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags, category="default", title="untitled"):
        if len(tags) != 3:
            raise AssertionError("a margin chart takes three tags: value, lower, upper")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    # ------------------------------------------------------------ embeddings
    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag="default",
                      metadata_header=None):
        """Data points (rows of ``mat``) for the Projector tab, with optional
        labels (``metadata``) and square thumbnails (``label_img``, NCHW)."""
        from tensorboardX.embedding import append_pbtxt, make_mat, make_sprite, make_tsv
        mat = np.asarray(_np(mat))
        label_img = _np(label_img)
        if mat.ndim != 2:
            raise ValueError("mat should be 2D, where mat.size(0) is the number of data points")
        step = 0 if global_step is None else global_step
        subdir = f"{str(step).zfill(5)}/{tag.replace('/', '_')}"
        logdir = self._get_file_writer().get_logdir()
        save_path = os.path.join(logdir, subdir)
        os.makedirs(save_path, exist_ok=True)
        if metadata is not None:
            if len(metadata) != mat.shape[0]:
                raise ValueError("#labels should equal with #data points")
            make_tsv(metadata, save_path, metadata_header=metadata_header)
        if label_img is not None:
            if label_img.shape[0] != mat.shape[0]:
                raise ValueError("#images should equal with #data points")
            make_sprite(label_img, save_path)
        make_mat(mat, save_path)
        append_pbtxt(metadata, label_img, logdir, subdir, step, tag)

    # ------------------------------------------------------------ hparams
    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None):
        """Log a hyperparameter set and its metrics, as a run in
        ``<log_dir>/<run_name>`` (default: the current time)."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        hparam_dict = {k: _number(v) if isinstance(v, (Tensor, np.ndarray, np.generic)) else v
                       for k, v in hparam_dict.items()}
        for k, v in hparam_dict.items():
            if v is not None and not isinstance(v, (int, float, str, bool)):
                raise ValueError(f"value of hparam {k!r} should be one of int, float, str, bool, "
                                 f"or Tensor, got {type(v).__name__}")
        metric_dict = {k: _number(v) for k, v in metric_dict.items()}
        domains = hparam_domain_discrete or {}
        if not isinstance(domains, dict):
            raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing "
                            "logged.")
        for k, v in domains.items():
            if k not in hparam_dict or not isinstance(v, list) or \
                    not all(isinstance(d, type(hparam_dict[k])) for d in v):
                raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same "
                                f"type as hparam_dict[{k}].")
        exp, ssi, sei = self._summary.hparams(hparam_dict, metric_dict)
        if domains:
            _add_discrete_domains(exp, hparam_dict, domains)
        run_dir = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=run_dir) as w:
            for summary in (exp, ssi, sei):
                w._add(summary, global_step, None)
            for k, v in metric_dict.items():
                w.add_scalar(k, v, global_step)


def _add_discrete_domains(exp, hparam_dict, domains):
    """Fill ``HParamInfo.domain_discrete`` in the experiment summary."""
    from google.protobuf import struct_pb2
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData
    meta = exp.value[0].metadata
    data = HParamsPluginData.FromString(meta.plugin_data.content)
    for info in data.experiment.hparam_infos:
        if info.name in domains:
            v = hparam_dict[info.name]
            field = ("string_value" if isinstance(v, str) else
                     "bool_value" if isinstance(v, bool) else "number_value")
            info.domain_discrete.values.extend(struct_pb2.Value(**{field: d})
                                               for d in domains[info.name])
    meta.plugin_data.content = data.SerializeToString()
