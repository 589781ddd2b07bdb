"""TFLite (LiteRT) conversion with TFLite's builtin ops only, and errors that name the layer and op.

The model is wrapped in the serving signature (``ser_tf.export.signature``) with a fixed input of
``(1, window_samples)``, its recurrent layers traced as ``rnns_for_export`` says, its variables
frozen into constants (the LiteRT runtime cannot read Keras's resource variables), and the frozen
graph goes through ``tf.lite.TFLiteConverter`` restricted to ``TFLITE_BUILTINS`` (plus
``SELECT_TF_OPS`` only when asked: a file that then needs the Flex delegate, which stock LiteRT
lacks).

Quantisation (``QUANTIZE_MODES``):

* ``none``: float32 weights and compute.
* ``float16``: float16 weights, float32 compute (half the size).
* ``dynamic``: int8 weights, activations quantised on the fly where a kernel allows it.
* ``int8``: int8 weights and activations, calibrated on ``representative`` windows, except the
  front-end layer (log-mel, MFCC, Whisper log-mel), which stays float32 (``frontend_tensors``);
  ops without an int8 kernel stay float too (TFLite's "integer with float fallback"). Input and
  outputs stay float32, so every export is called the same way.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ser_tf.errors import ExportError, ParameterError
from ser_tf.export.signature import serving_function

QUANTIZE_MODES = ("none", "float16", "dynamic", "int8")

# TF op names in the converter's messages: "'tf.Erfinv' op is neither a custom op nor a flex op",
# "TF Select ops: Erfinv, Lgamma", "tf.StridedSlice(tensor<...>)".
_OP_PATTERNS = (r"'tf\.(\w+)' op is neither", r"TF Select ops: ([\w, ]+)", r"failed to legalize operation 'tf\.(\w+)'")


def check_quantize(quantize: str) -> str:
    if quantize not in QUANTIZE_MODES:
        raise ParameterError(f"quantize must be one of {QUANTIZE_MODES}, got {quantize!r}")
    return quantize


@contextlib.contextmanager
def rnns_for_export(model, *, unroll: bool):
    """Trace ``model``'s recurrent layers without dropout masks, and unrolled if ``unroll``;
    restored afterwards.

    Dropout: Keras draws an RNN's dropout masks on every call, in inference too (unused there),
    which advances a seed variable; a graph that assigns a variable cannot be frozen into
    constants. With a rate of 0 no mask is drawn; inference outputs are the same.

    Unrolling, used for ``int8`` only: with a fixed input the number of time steps is known, and
    an unrolled LSTM/GRU is plain builtin ops. The loop (TFLite WHILE over tensor lists) converts
    and runs in float, but TFLite's int8 calibrator crashes on it (segmentation fault, TF 2.21);
    unrolled, a long sequence (``bilstm_mfcc``'s 1000 frames) makes a large, slow-to-convert graph.
    """
    import keras

    rnns = [layer for layer in model._flatten_layers(include_self=False) if isinstance(layer, keras.layers.RNN)]
    saved = [(layer.unroll, getattr(layer.cell, "dropout", None), getattr(layer.cell, "recurrent_dropout", None))
             for layer in rnns]
    try:
        for layer in rnns:
            layer.unroll = layer.unroll or unroll
            for name in ("dropout", "recurrent_dropout"):
                if getattr(layer.cell, name, None):
                    setattr(layer.cell, name, 0.0)
        yield
    finally:
        for layer, (unrolled, dropout, recurrent_dropout) in zip(rnns, saved):
            layer.unroll = unrolled
            if dropout is not None:
                layer.cell.dropout = dropout
            if recurrent_dropout is not None:
                layer.cell.recurrent_dropout = recurrent_dropout


def frozen_serving_function(model, classes: Sequence[str], *, window_samples: int):
    """The serving signature on ``(1, window_samples)`` with every variable a constant, named outputs."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = serving_function(model, classes, batch=1, samples=window_samples).get_concrete_function()
    # Freezing keeps the v2 While loop (lower_control_flow=False), which TFLite runs as WHILE; the
    # frozen function returns a flat list in the order of the structured outputs' keys.
    frozen = convert_variables_to_constants_v2(concrete, lower_control_flow=False)
    structure = concrete.structured_outputs
    spec = concrete.structured_input_signature[0][0]
    named = tf.function(lambda waveform: tf.nest.pack_sequence_as(structure, frozen(waveform)),
                        input_signature=[spec], autograph=False)
    return concrete, named.get_concrete_function()


def convert(model, classes: Sequence[str], *, window_samples: int, quantize: str = "none",
            representative: Optional[Callable[[], Iterable[np.ndarray]]] = None,
            select_tf_ops: bool = False) -> bytes:
    """The ``.tflite`` flatbuffer of ``model`` with the ``serving_default`` signature.

    Args:
        model: a ser_tf classifier (``keras.Model``).
        classes: class names in output order (embedded as the ``class_names`` output).
        window_samples: the input length in samples (the TFLite input is ``(1, window_samples)``).
        quantize: one of ``QUANTIZE_MODES``.
        representative: for ``int8``: a callable yielding float32 windows ``(window_samples,)``.
        select_tf_ops: let ops without a builtin fall back to TensorFlow kernels (the file then
            needs LiteRT's Flex delegate); default off.

    Raises:
        ExportError: an op TFLite's builtins lack; the message names the layer(s) and op(s).
        ParameterError: a bad ``quantize``, or ``int8`` without ``representative``.
    """
    import tensorflow as tf

    check_quantize(quantize)
    if quantize == "int8" and representative is None:
        raise ParameterError("int8 quantisation needs calibration windows (representative)")
    with rnns_for_export(model, unroll=quantize == "int8"):
        original, frozen = frozen_serving_function(model, classes, window_samples=window_samples)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], tf.Module())
    ops = [tf.lite.OpsSet.TFLITE_BUILTINS] + ([tf.lite.OpsSet.SELECT_TF_OPS] if select_tf_ops else [])
    converter.target_spec.supported_ops = ops
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    try:
        content = converter.convert()
        if quantize == "int8":
            content = _int8_with_float_frontend(frozen, content, model, ops=ops, representative=representative)
        return content
    except Exception as err:  # noqa: BLE001 -- ConverterError and friends: explained below
        raise conversion_error(err, original.graph, model, select_tf_ops=select_tf_ops) from None


def frontend_tensors(content: bytes, model) -> List[str]:
    """Names of the tensors of the TFLite model ``content`` computed by ``model``'s front-end layers
    (log-mel, MFCC, Whisper log-mel): their names start with the layer's name scope."""
    from ser_tf.inference.backends import tflite_interpreter
    from ser_tf.layers.log_mel import MelFrontend
    from ser_tf.layers.whisper_log_mel import WhisperLogMel

    names = [layer.name for layer in model._flatten_layers(include_self=False)
             if isinstance(layer, (MelFrontend, WhisperLogMel))]
    if not names:
        return []
    scope = re.compile(r"(^|/)(" + "|".join(map(re.escape, names)) + r")(_\d+)?/")
    details = tflite_interpreter(model_content=content).get_tensor_details()
    return [d["name"] for d in details if scope.search(d["name"])]


def _int8_with_float_frontend(frozen, float_content: bytes, model, *, ops, representative) -> bytes:
    """int8 weights and activations everywhere but the front-end, which stays float32.

    The front-end's log of the power spectrum and its per-clip normalisation span 80 dB and
    divide by the clip's range: in int8 the divisor rounds to zero (TFLite's DIV then refuses to
    run) and the features lose most of their resolution. TFLite's quantisation debugger leaves
    the denylisted nodes in float ("selective quantisation").
    """
    import tensorflow as tf

    def dataset():
        return ([np.asarray(w, np.float32)[None, :]] for w in representative())

    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], tf.Module())
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8] + ops
    options = tf.lite.experimental.QuantizationDebugOptions(
        denylisted_nodes=frontend_tensors(float_content, model))
    from ser_tf.utils.quiet import debug_requested, filtered_stderr

    # The debugger runs TF's own deprecated tf.lite.Interpreter (a Python warning), and the
    # quantiser prints its settings on stderr ("fully_quantize: 0, ..."): neither is news.
    with warnings.catch_warnings(), (contextlib.nullcontext() if debug_requested() else filtered_stderr()):
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        debugger = tf.lite.experimental.QuantizationDebugger(converter=converter, debug_dataset=dataset,
                                                             debug_options=options)
        return debugger.get_nondebug_quantized_model()


def unsupported_ops(message: str) -> List[str]:
    """TF op names the converter's ``message`` reports as having no TFLite builtin, in order."""
    found: List[str] = []
    for pattern in _OP_PATTERNS:
        for match in re.findall(pattern, message):
            for name in str(match).split(","):
                name = name.strip()
                if name and name not in found:
                    found.append(name)
    return found


def layers_running(op_type: str, graph, model) -> List[str]:
    """Names of ``model``'s layers whose graph (``graph`` and its functions) holds an ``op_type`` node.

    A node's name starts with the name scopes of the layers that made it
    (``cnn_lstm_small_1/erfinv_layer_1/Erfinv``); Keras adds ``_1``-style suffixes when a layer is
    called again, so scopes are matched to layer names with and without them.
    """
    layer_names = {layer.name for layer in model._flatten_layers(include_self=False)}
    definition = graph.as_graph_def()
    nodes = list(definition.node) + [n for f in definition.library.function for n in f.node_def]
    found: List[str] = []
    for node in nodes:
        if node.op != op_type:
            continue
        for scope in node.name.split("/")[:-1]:
            name = scope if scope in layer_names else re.sub(r"_\d+$", "", scope)
            if name in layer_names and name not in found:
                found.append(name)
    return found


def conversion_error(err: Exception, graph, model, *, select_tf_ops: bool = False) -> ExportError:
    """An ``ExportError`` naming the layer(s) and op(s) behind a failed conversion."""
    text = str(err)
    ops = unsupported_ops(text)
    if not ops:
        first = next((line.strip() for line in text.splitlines() if "error:" in line), text.strip()[:300])
        return ExportError(f"TFLite conversion of {model.name!r} failed: {first}")
    where: List[Tuple[str, List[str]]] = [(op, layers_running(op, graph, model)) for op in ops]
    detail = "; ".join(f"op {op!r} in layer {', '.join(map(repr, layers)) or '(no named layer)'}"
                       for op, layers in where)
    if select_tf_ops:
        return ExportError(f"cannot convert {model.name!r} to TFLite, even with TensorFlow (Flex) ops: "
                           f"{detail} has neither a TFLite builtin nor a Flex kernel. Rewrite that layer")
    return ExportError(
        f"cannot convert {model.name!r} to TFLite with builtin ops only: {detail} has no TFLite "
        f"builtin kernel. Rewrite that layer with builtin-friendly ops, or export with "
        f"--select-tf-ops (the file then needs LiteRT's Flex delegate)"
    )
