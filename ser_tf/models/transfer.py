"""Views of a pretrained-encoder classifier for transfer learning: cache the encoder, train the head.

The contract (kept by the Whisper and HuBERT / wav2vec 2.0 families): the classifier is a
functional ``keras.Model`` ``waveform (batch, samples) -> probabilities (batch, num_classes)``
with one sublayer named ``encoder``, a ``keras.Model`` called once on a dict and returning a dict
with ``hidden_states`` (a list of ``L + 1`` tensors ``(batch, frames, dim)``: the transformer's
input, then one per layer), ``sequence_output`` and ``padding_mask`` ``(batch, frames)`` bool.
Everything before the encoder prepares its input (front-end, masks); everything after it is the
shared head (``ser_tf.models.head``).

Every view below REUSES the classifier's own layer objects, so the weights are shared: training
``head_view(model)`` trains ``model``'s head, and what ``encoder_view(model)`` computes changes
when ``model``'s encoder changes.

    encoder_view(model)      waveform (batch, samples)
                             -> {"hidden_states": (batch, L + 1, frames, dim), "padding_mask": (batch, frames)}
    head_view(model)         {"hidden_states": (batch, L + 1, frames, dim), "padding_mask"} -> probabilities
    split_encoder(model, top_k=k) -> (lower, upper)
        lower                waveform -> {"hidden_states": (batch, L + 1 - k, frames, dim), "padding_mask"}
        upper                {"hidden_states": (batch, L + 1 - k, frames, dim), "padding_mask"}
                             -> the top k transformer layers (+ the final LayerNorm) -> head -> probabilities
    encoder_fingerprint(model[, top_k=k])  sha256 hex of what ``encoder_view`` (or ``lower``) computes

``head_view(encoder_view(x))`` and ``upper(lower(x))`` equal ``model(x)`` (tested). The hidden
states are stacked on axis 1 so that a cache holds one array per clip. The views are built on
demand and are not meant to be saved: save the classifier itself.

Which hidden state is which depends on the encoder (see each backbone's docstring): Whisper's
last hidden state is its final LayerNorm's output (HF 5), which is also ``sequence_output``;
HuBERT's (post-LN, base) last state is ``sequence_output``; for the pre-LN HuBERT (large) the last
state is the last layer's raw output and ``sequence_output`` is it after the final LayerNorm, which
``head_view`` and ``upper`` apply (the encoder's own LayerNorm object) when the head reads
``sequence_output``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import List, Optional, Tuple

import keras
import numpy as np
from keras import ops

from ser_tf.errors import ModelError, ParameterError

ENCODER_LAYER = "encoder"


@dataclasses.dataclass(frozen=True)
class EncoderParts:
    """How to run the top of an encoder from a cached hidden state.

    Attributes:
        layers: the transformer layers, bottom first; each is called ``layer(x, padding_mask=mask)``.
        final_norm: the LayerNorm that turns the last layer's output into ``sequence_output``
            (pre-LN models), or ``None`` (post-LN models).
        normed_last_state: ``hidden_states[-1]`` is ``final_norm``'s output (Whisper, HF 5),
            not the last layer's raw output.
        fixed: layers that never train (Whisper's sinusoidal position table).
    """

    layers: Tuple
    final_norm: Optional[keras.layers.Layer]
    normed_last_state: bool
    fixed: Tuple = ()


def encoder_parts(encoder: keras.Model) -> EncoderParts:
    """The ``EncoderParts`` of ``encoder``, from its ``transfer_parts()`` method (a dict of the
    ``EncoderParts`` fields; ``WhisperEncoderBackbone`` and ``HubertBackbone`` have one).

    Raises:
        ModelError: an encoder without ``transfer_parts()``, whose top layers this module cannot
            run on their own.
    """
    if not callable(getattr(encoder, "transfer_parts", None)):
        raise ModelError(
            f"cannot run the top layers of a {type(encoder).__name__} on their own: it has no transfer_parts() "
            "(WhisperEncoderBackbone and HubertBackbone have one)"
        )
    parts = dict(encoder.transfer_parts())
    return EncoderParts(tuple(parts["layers"]), parts["final_norm"], bool(parts["normed_last_state"]),
                        tuple(parts.get("fixed", ())))


# --------------------------------------------------------------------------------------------
# The classifier's graph around its encoder
# --------------------------------------------------------------------------------------------


def named_encoder(backbone: keras.Model) -> keras.Model:
    """``backbone`` if it is named ``encoder``, else a copy of it so named, with the same weights
    (a Keras layer is named at construction; builders pass ``name="encoder"`` and skip the copy)."""
    if backbone.name == ENCODER_LAYER:
        return backbone
    copy = type(backbone).from_config({**backbone.get_config(), "name": ENCODER_LAYER})
    copy.set_weights(backbone.get_weights())
    return copy


def find_encoder(model: keras.Model) -> keras.Model:
    """The classifier's sublayer named ``encoder``, checked against the contract.

    Raises:
        ModelError: no such sublayer, not a ``keras.Model``, called other than once, or its
            outputs lack ``hidden_states`` / ``sequence_output`` / ``padding_mask``.
    """
    try:
        encoder = model.get_layer(ENCODER_LAYER)
    except ValueError:
        raise ModelError(
            f"model {model.name!r} has no layer named {ENCODER_LAYER!r} (a pretrained-encoder classifier "
            f"has one); its layers: {[layer.name for layer in model.layers]}"
        ) from None
    if not isinstance(encoder, keras.Model) or not hasattr(encoder, "_outputs_struct"):
        raise ModelError(f"layer {ENCODER_LAYER!r} of {model.name!r} is a {type(encoder).__name__}, "
                         "not a functional keras.Model")
    struct = encoder._outputs_struct
    missing = [k for k in ("hidden_states", "sequence_output", "padding_mask")
               if not isinstance(struct, dict) or k not in struct]
    if missing:
        raise ModelError(f"the encoder of {model.name!r} has no output {missing}; "
                         f"it returns {type(struct).__name__} {struct!r}")
    return encoder


def _graph_nodes(model: keras.Model) -> list:
    """The ``Node``s of ``model``'s own functional graph (not those of other models sharing its layers)."""
    return [node for nodes in model._nodes_by_depth.values() for node in nodes]


def _encoder_node(model: keras.Model, encoder: keras.Model):
    nodes = [node for node in _graph_nodes(model) if node.operation is encoder]
    if len(nodes) != 1 or len(nodes[0].arguments.args) != 1:
        raise ModelError(f"the encoder of {model.name!r} must be called once, on one (dict) argument; "
                         f"found {len(nodes)} calls")
    return nodes[0]


def _graph_tensors(model: keras.Model):
    """``(encoder, encoder_input, encoder_outputs)``: the encoder and its call's input and
    output dict as tensors of ``model``'s graph."""
    encoder = find_encoder(model)
    node = _encoder_node(model, encoder)
    outputs = keras.tree.pack_sequence_as(encoder._outputs_struct, node.outputs)
    return encoder, node.arguments.args[0], outputs


def _head(model: keras.Model, encoder: keras.Model, outputs: dict):
    """``(tail, keys)``: the classifier's graph after the encoder as a model (same layer objects)
    whose inputs are the encoder outputs the head reads, named by ``keys`` (``("hidden_states",
    i)``, ``("sequence_output",)`` or ``("padding_mask",)``)."""
    named = [(("hidden_states", i), t) for i, t in enumerate(outputs["hidden_states"])]
    named += [(("sequence_output",), outputs["sequence_output"]), (("padding_mask",), outputs["padding_mask"])]
    read = set()
    for node in _graph_nodes(model):
        if node.operation is not encoder:
            read.update(id(t) for t in node.input_tensors)
    keys, inputs, seen = [], [], set()
    for key, tensor in named:
        if id(tensor) in read and id(tensor) not in seen:  # sequence_output may be hidden_states[-1]
            seen.add(id(tensor))
            keys.append(key)
            inputs.append(tensor)
    return keras.Model(inputs, model.outputs, name=f"{model.name}_head"), keys


def _stacked_input(count: int, dim: int):
    states = keras.Input(shape=(count, None, dim), dtype="float32", name="hidden_states")
    mask = keras.Input(shape=(None,), dtype="bool", name="padding_mask")
    return states, mask


def _run_head(tail, keys, states: List, sequence_output, mask):
    values = {"sequence_output": sequence_output, "padding_mask": mask}
    args = [states[key[1]] if key[0] == "hidden_states" else values[key[0]] for key in keys]
    return tail(args)


def _sequence_output(parts: EncoderParts, last_state):
    """``sequence_output`` from the last hidden state as the encoder lists it."""
    if parts.final_norm is None or parts.normed_last_state:
        return last_state
    return parts.final_norm(last_state)


def _dim(encoder: keras.Model, outputs: dict) -> int:
    dim = outputs["hidden_states"][0].shape[-1]
    if dim is None:
        raise ModelError(f"the hidden states of {encoder.name!r} have no static width")
    return int(dim)


# --------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------


def encoder_view(model: keras.Model) -> keras.Model:
    """The classifier up to its encoder: ``waveform (batch, samples)`` -> ``{"hidden_states":
    (batch, L + 1, frames, dim), "padding_mask": (batch, frames) bool}``.

    Shares the classifier's front-end and encoder layers (and weights). Run it with
    ``training=False`` to fill a cache.

    Raises:
        ModelError: ``model`` does not keep the contract (see the module docstring).
    """
    _, _, outputs = _graph_tensors(model)
    stacked = ops.stack(outputs["hidden_states"], axis=1)
    return keras.Model(model.input, {"hidden_states": stacked, "padding_mask": outputs["padding_mask"]},
                       name=f"{model.name}_encoder_view")


def head_view(model: keras.Model) -> keras.Model:
    """The classifier after its encoder: ``{"hidden_states": (batch, L + 1, frames, dim),
    "padding_mask": (batch, frames) bool}`` -> ``(batch, num_classes)`` probabilities.

    Reuses the classifier's head layers: training this model trains ``model``'s head. A head
    without a weighted layer sum reads ``sequence_output``, i.e. the last hidden state (after the
    encoder's final LayerNorm for a pre-LN HuBERT, see the module docstring).

    Raises:
        ModelError: ``model`` does not keep the contract.
    """
    encoder, _, outputs = _graph_tensors(model)
    tail, keys = _head(model, encoder, outputs)
    count = len(outputs["hidden_states"])
    states_in, mask_in = _stacked_input(count, _dim(encoder, outputs))
    states = [states_in[:, i] for i in range(count)]
    needs_norm = any(key[0] == "sequence_output" for key in keys)
    sequence_output = _sequence_output(encoder_parts(encoder), states[-1]) if needs_norm else states[-1]
    probabilities = _run_head(tail, keys, states, sequence_output, mask_in)
    return keras.Model({"hidden_states": states_in, "padding_mask": mask_in}, probabilities,
                       name=f"{model.name}_head_view")


def split_encoder(model: keras.Model, *, top_k: int) -> Tuple[keras.Model, keras.Model]:
    """The classifier cut below its top ``top_k`` transformer layers: ``(lower, upper)``.

    ``lower``: ``waveform (batch, samples)`` -> ``{"hidden_states": (batch, L + 1 - top_k,
    frames, dim), "padding_mask": (batch, frames) bool}``, the first ``L + 1 - top_k`` hidden
    states (the last of them is the input of layer ``L - top_k``).

    ``upper``: that dict -> the encoder's layers ``L - top_k .. L - 1`` (the classifier's own
    layer objects ``encoder_layer_{i}`` / ``transformer_layer_{i}``), its final LayerNorm where it
    has one, and the head -> ``(batch, num_classes)`` probabilities. ``upper(lower(x)) ==
    model(x)``; ``top_k=0`` gives ``(encoder_view(model), head_view(model))``.

    Raises:
        ParameterError: ``top_k`` not an integer in ``[0, L]``.
        ModelError: ``model`` does not keep the contract, or its encoder is of an unknown class.
    """
    encoder, encoder_input, outputs = _graph_tensors(model)
    parts = encoder_parts(encoder)
    num_layers = len(parts.layers)
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or not 0 <= top_k <= num_layers:
        raise ParameterError(f"top_k must be an integer in [0, {num_layers}] (the encoder's layers), got {top_k!r}")
    top_k = int(top_k)
    if top_k == 0:
        return encoder_view(model), head_view(model)
    count = num_layers + 1 - top_k

    # === Lower: the encoder's own graph up to hidden state count - 1 ===
    inner = encoder._outputs_struct
    lower_encoder = keras.Model(
        encoder._inputs_struct,
        {"hidden_states": list(inner["hidden_states"][:count]), "padding_mask": inner["padding_mask"]},
        name=f"{encoder.name}_lower_{count - 1}",
    )
    lower_out = lower_encoder(encoder_input)
    lower = keras.Model(
        model.input,
        {"hidden_states": ops.stack(lower_out["hidden_states"], axis=1), "padding_mask": lower_out["padding_mask"]},
        name=f"{model.name}_lower_{count - 1}",
    )

    # === Upper: the top layers, the final norm and the head ===
    tail, keys = _head(model, encoder, outputs)
    states_in, mask_in = _stacked_input(count, _dim(encoder, outputs))
    states = [states_in[:, i] for i in range(count)]
    x = states[-1]
    for layer in parts.layers[num_layers - top_k:]:
        x = layer(x, padding_mask=mask_in)
        states.append(x)
    sequence_output = x if parts.final_norm is None else parts.final_norm(x)
    if parts.normed_last_state:
        states[-1] = sequence_output
    probabilities = _run_head(tail, keys, states, sequence_output, mask_in)
    upper = keras.Model({"hidden_states": states_in, "padding_mask": mask_in}, probabilities,
                        name=f"{model.name}_upper_{top_k}")
    return lower, upper


FREEZE_MODES = ("all", "top_k", "none")


def _set_trainable(encoder: keras.Model, value: bool) -> None:
    # A functional model's ``trainable`` setter does not reach every layer of its graph: set each.
    encoder.trainable = value
    for layer in encoder.layers:
        layer.trainable = value


def freeze_encoder(model: keras.Model, *, freeze: str, finetune_layers: int = 0) -> None:
    """Set which encoder weights of ``model`` train (the front-end and head are left alone).

    ``freeze="all"``: the whole encoder is frozen. ``"top_k"``: only its top ``finetune_layers``
    transformer layers and its final LayerNorm (if it has one) train, as ``split_encoder(model,
    top_k=finetune_layers)[1]`` runs them. ``"none"``: every encoder weight trains (fixed
    position tables stay non-trainable).

    Keras traces ``trainable_weights`` when it compiles the train step: call this before
    ``compile`` (or recompile after).

    Raises:
        ConfigError: an unknown ``freeze`` or a ``finetune_layers`` outside ``[1, L]`` for ``top_k``.
        ModelError: ``model`` does not keep the contract.
    """
    from ser_tf.errors import ConfigError

    encoder = find_encoder(model)
    if freeze not in FREEZE_MODES:
        raise ConfigError(f"model.freeze must be one of {list(FREEZE_MODES)}, got {freeze!r}")
    if freeze != "top_k":
        _set_trainable(encoder, freeze == "none")
        if freeze == "none":
            try:
                fixed = encoder_parts(encoder).fixed
            except ModelError:
                fixed = ()
            for layer in fixed:
                layer.trainable = False
        return
    parts = encoder_parts(encoder)
    num_layers = len(parts.layers)
    if isinstance(finetune_layers, bool) or not isinstance(finetune_layers, (int, np.integer)) \
            or not 1 <= finetune_layers <= num_layers:
        raise ConfigError(f"model.finetune_layers must be an integer in [1, {num_layers}] with "
                          f"model.freeze=top_k, got {finetune_layers!r}")
    _set_trainable(encoder, True)
    trained = set(id(layer) for layer in parts.layers[num_layers - int(finetune_layers):])
    if parts.final_norm is not None:
        trained.add(id(parts.final_norm))
    for layer in encoder.layers:
        if id(layer) not in trained:
            layer.trainable = False


# --------------------------------------------------------------------------------------------
# Cache keys
# --------------------------------------------------------------------------------------------


def _layer_record(layer) -> dict:
    config = {k: v for k, v in layer.get_config().items() if k not in ("name", "trainable")}
    return {"class": f"{type(layer).__module__}.{type(layer).__qualname__}", "config": config,
            "compute_dtype": getattr(layer, "compute_dtype", None)}


def encoder_fingerprint(model: keras.Model, *, top_k: Optional[int] = None) -> str:
    """A sha256 hex digest of everything ``encoder_view(model)`` computes with: the class and
    config (names aside) of every layer before and including the encoder, their compute dtypes,
    and every weight's shape and value, in graph order.

    Equal for two builds with equal weights; different once any encoder or front-end weight
    changes (a head weight does not count). With ``top_k``, covers what ``split_encoder(model,
    top_k=top_k)[0]`` computes (the top ``top_k`` layers and the final norm left out), so a cache
    of the lower states stays valid while the top layers train.

    Raises:
        ModelError / ParameterError: as ``encoder_view`` / ``split_encoder``.
    """
    view = encoder_view(model) if not top_k else split_encoder(model, top_k=top_k)[0]
    records = [_layer_record(layer) for layer in view.layers if not isinstance(layer, keras.layers.InputLayer)
               and not layer.name.startswith(f"{ENCODER_LAYER}_lower_")]
    if top_k:
        records.append({"encoder": _layer_record(find_encoder(model)), "top_k": int(top_k)})
    digest = hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode("utf-8"))
    for variable in view.weights:
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(variable.value))
        digest.update(f"{value.dtype.str}{value.shape}".encode("ascii"))
        digest.update(value.tobytes())
    return digest.hexdigest()


__all__ = ["EncoderParts", "FREEZE_MODES", "encoder_fingerprint", "encoder_parts", "encoder_view", "find_encoder",
           "freeze_encoder", "head_view", "named_encoder", "split_encoder"]
