"""Whisper checkpoints (Hugging Face or CTranslate2 folders) -> ``WhisperEncoderBackbone`` weights.

Pure mapping functions, as in keras-hub's ``utils/transformers/convert_*.py``:

* ``backbone_kwargs_from_hf_config`` / ``backbone_kwargs_from_ct2``: a checkpoint's config ->
  backbone kwargs.
* ``encoder_state_from_hf`` / ``encoder_state_from_ct2``: a checkpoint's tensors -> one canonical
  state dict, float32, named and laid out like HF's ``WhisperEncoder`` without a prefix
  (``conv1.weight (out, in, 3)``, ``layers.0.self_attn.q_proj.weight (out, in)``, ...).
* ``port_weights(backbone, state)``: the canonical state -> the Keras variables.

``load_checkpoint(folder)`` does all three for a folder of either kind. HF folders hold
``config.json`` + ``model.safetensors`` (or ``pytorch_model.bin``, which needs torch);
CTranslate2 folders ``model.bin`` + ``config.json`` (read with NumPy only; see
``ct2_checkpoint.py``). Only the encoder is read; the decoder is ignored.

CTranslate2 stores each self-attention's q, k and v projections as one fused ``linear_0``:
``weight (3 d, d) = [W_q; W_k; W_v]`` and ``bias (3 d) = [b_q; 0; b_v]`` (Whisper's key projection
has no bias; the converter fills zeros). The split drops the key bias: a key bias adds the same
``q . b_k`` to every logit of a query row, which softmax cancels, so nothing is lost even if it
were not zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Mapping, Optional

import numpy as np

from ser_tf.errors import ConfigError, ModelError
from ser_tf.models import converted_weights
from ser_tf.models.converted_weights import sidecar_config_path  # noqa: F401 - part of this module's API
from ser_tf.models.hf_checkpoint import read_config_json, read_hf_state_dict
from ser_tf.models.saving import architecture_differences
from ser_tf.models.whisper.backbone import WhisperEncoderBackbone, architecture_kwargs
from ser_tf.models.whisper.ct2_checkpoint import CT2Model, read_ct2_model
from ser_tf.models.whisper.presets import get_preset

# Parts of one encoder layer in the canonical (HF) naming: (HF module, CT2 scope).
_LINEARS = {"self_attn.out_proj": "self_attention/linear_1", "fc1": "ffn/linear_0", "fc2": "ffn/linear_1"}
_LAYER_NORMS = {"self_attn_layer_norm": "self_attention/layer_norm", "final_layer_norm": "ffn/layer_norm"}

# --------------------------------------------------------------------------------------------
# Hugging Face folders
# --------------------------------------------------------------------------------------------


def read_hf_config(folder) -> dict:
    """``config.json`` of an HF Whisper folder (``model_type`` ``"whisper"``).

    Raises:
        ModelError: no folder, no or invalid ``config.json``, or another ``model_type``.
    """
    config = read_config_json(folder, kind="HF Whisper")
    path = Path(folder) / "config.json"
    if config.get("model_type") != "whisper":
        raise ModelError(f"{str(path)!r}: model_type {config.get('model_type')!r} is not 'whisper'")
    return config


def backbone_kwargs_from_hf_config(hf_config: Mapping) -> dict:
    """``WhisperEncoderBackbone`` kwargs equivalent to an HF ``WhisperConfig`` dict.

    Raises:
        ModelError: an activation other than GELU.
    """
    c = {"d_model": 1280, "encoder_layers": 32, "encoder_attention_heads": 20, "encoder_ffn_dim": 5120,
         "num_mel_bins": 80, "max_source_positions": 1500, "activation_function": "gelu", **hf_config}
    if c["activation_function"] != "gelu":
        raise ModelError(f"config activation_function={c['activation_function']!r} is not supported; expected 'gelu'")
    return {
        "num_layers": int(c["encoder_layers"]),
        "hidden_dim": int(c["d_model"]),
        "num_heads": int(c["encoder_attention_heads"]),
        "intermediate_dim": int(c["encoder_ffn_dim"]),
        "n_mels": int(c["num_mel_bins"]),
        "max_source_positions": int(c["max_source_positions"]),
    }


def encoder_state_from_hf(state: Mapping[str, np.ndarray], *, source="the checkpoint") -> Dict[str, np.ndarray]:
    """The encoder tensors of an HF Whisper state dict, prefix removed, as float32.

    Accepts ``WhisperModel`` (``encoder.``), ``WhisperForConditionalGeneration`` /
    ``WhisperForAudioClassification`` (``model.encoder.`` / ``encoder.``) and bare encoders.

    Raises:
        ModelError: no ``conv1.weight`` of an encoder in ``state``.
    """
    prefixes = [k[: -len("conv1.weight")] for k in state if k.endswith("conv1.weight")]
    if not prefixes:
        raise ModelError(f"{source} holds no Whisper encoder (no '*conv1.weight' tensor)")
    prefix = min(prefixes, key=len)
    return {k[len(prefix):]: np.asarray(v, dtype=np.float32) for k, v in state.items() if k.startswith(prefix)}


# --------------------------------------------------------------------------------------------
# CTranslate2 folders
# --------------------------------------------------------------------------------------------


def _ct2_num_layers(model: CT2Model) -> int:
    count = 0
    while f"encoder/layer_{count}/ffn/linear_0/weight" in model:
        count += 1
    return count


def backbone_kwargs_from_ct2(model: CT2Model) -> dict:
    """``WhisperEncoderBackbone`` kwargs read from a CTranslate2 Whisper model's variable shapes.

    CTranslate2's ``config.json`` holds decoding settings only; sizes come from ``conv1`` (width
    and mel bands), the position table, the first feed-forward layer and ``encoder/num_heads``.
    """
    for name in ("encoder/conv1/weight", "encoder/position_encodings/encodings", "encoder/num_heads"):
        if name not in model:
            raise ModelError(f"{str(model.path)!r} has no {name!r}: not a Whisper encoder")
    hidden_dim, n_mels, _ = model._entries[model._resolve("encoder/conv1/weight")].shape
    return {
        "num_layers": _ct2_num_layers(model),
        "hidden_dim": int(hidden_dim),
        "num_heads": int(model.raw("encoder/num_heads")),
        "intermediate_dim": int(model._entries[model._resolve("encoder/layer_0/ffn/linear_0/weight")].shape[0]),
        "n_mels": int(n_mels),
        "max_source_positions": int(model._entries[model._resolve("encoder/position_encodings/encodings")].shape[0]),
    }


def encoder_state_from_ct2(model: CT2Model) -> Dict[str, np.ndarray]:
    """The encoder of a CTranslate2 Whisper model in the canonical (HF) naming, float32.

    Dequantises int8/int16 weights and splits the fused self-attention ``linear_0`` into
    ``q_proj`` / ``k_proj`` / ``v_proj`` (the key bias is dropped; see the module docstring).
    """
    state = {}

    def linear(hf: str, ct2: str, *, bias: bool = True):
        state[f"{hf}.weight"] = model.float32(f"{ct2}/weight")
        if bias:
            state[f"{hf}.bias"] = model.float32(f"{ct2}/bias")

    linear("conv1", "encoder/conv1")
    linear("conv2", "encoder/conv2")
    state["embed_positions.weight"] = model.float32("encoder/position_encodings/encodings")
    state["layer_norm.weight"] = model.float32("encoder/layer_norm/gamma")
    state["layer_norm.bias"] = model.float32("encoder/layer_norm/beta")
    for i in range(_ct2_num_layers(model)):
        scope = f"encoder/layer_{i}"
        weight = model.float32(f"{scope}/self_attention/linear_0/weight")
        bias = model.float32(f"{scope}/self_attention/linear_0/bias")
        if weight.shape[0] != 3 * weight.shape[1] or bias.shape != (weight.shape[0],):
            raise ModelError(
                f"{str(model.path)!r}: {scope}/self_attention/linear_0 should be a fused (3 d, d) q/k/v "
                f"projection with a (3 d,) bias, got {weight.shape} and {bias.shape}"
            )
        for name, w, b in zip(("q_proj", "k_proj", "v_proj"), np.split(weight, 3), np.split(bias, 3)):
            state[f"layers.{i}.self_attn.{name}.weight"] = w
            if name != "k_proj":
                state[f"layers.{i}.self_attn.{name}.bias"] = b
        for hf, ct2 in _LINEARS.items():
            linear(f"layers.{i}.{hf}", f"{scope}/{ct2}")
        for hf, ct2 in _LAYER_NORMS.items():
            state[f"layers.{i}.{hf}.weight"] = model.float32(f"{scope}/{ct2}/gamma")
            state[f"layers.{i}.{hf}.bias"] = model.float32(f"{scope}/{ct2}/beta")
    return state


# --------------------------------------------------------------------------------------------
# Porting
# --------------------------------------------------------------------------------------------


def _take(state: Mapping[str, np.ndarray], name: str, shape) -> np.ndarray:
    if name not in state:
        raise ModelError(f"the checkpoint has no encoder tensor {name!r}")
    value = state[name]
    if tuple(value.shape) != tuple(shape):
        raise ModelError(f"encoder tensor {name!r} has shape {tuple(value.shape)}, expected {tuple(shape)}")
    return value


def port_weights(backbone: WhisperEncoderBackbone, state: Mapping[str, np.ndarray]) -> None:
    """Copy a canonical encoder state (see the module docstring) into ``backbone``'s variables.

    Layouts: torch ``Conv1d (out, in, k)`` -> Keras ``(k, in, out)``; ``Linear (out, in)`` ->
    ``(in, out)``, reshaped to ``(in, heads, head_dim)`` for q/k/v and ``(heads, head_dim, out)``
    for the attention output.

    Raises:
        ModelError: a tensor is missing or has another shape than the backbone's.
    """
    d, heads, ffn, mels = backbone.hidden_dim, backbone.num_heads, backbone.intermediate_dim, backbone.n_mels
    head_dim = d // heads

    def conv(layer, name, in_dim):
        layer.kernel.assign(_take(state, f"{name}.weight", (d, in_dim, 3)).transpose(2, 1, 0))
        layer.bias.assign(_take(state, f"{name}.bias", (d,)))

    def dense(layer, name, in_dim, out_dim, kernel_shape=None, bias_shape=None, bias=True):
        kernel = _take(state, f"{name}.weight", (out_dim, in_dim)).T
        layer.kernel.assign(kernel.reshape(kernel_shape or kernel.shape))
        if bias:
            layer.bias.assign(_take(state, f"{name}.bias", (out_dim,)).reshape(bias_shape or (out_dim,)))

    def norm(layer, name):
        layer.gamma.assign(_take(state, f"{name}.weight", (d,)))
        layer.beta.assign(_take(state, f"{name}.bias", (d,)))

    conv(backbone.conv1, "conv1", mels)
    conv(backbone.conv2, "conv2", d)
    backbone.position_embedding.position_embeddings.assign(
        _take(state, "embed_positions.weight", (backbone.max_source_positions, d))
    )
    for i, layer in enumerate(backbone.encoder_layers):
        p = f"layers.{i}"
        attention = layer._self_attention_layer
        for sub, name, bias in ((attention._query_dense, "q_proj", True), (attention._key_dense, "k_proj", False),
                                (attention._value_dense, "v_proj", True)):
            dense(sub, f"{p}.self_attn.{name}", d, d, (d, heads, head_dim), (heads, head_dim), bias=bias)
        dense(attention._output_dense, f"{p}.self_attn.out_proj", d, d, (heads, head_dim, d))
        norm(layer._self_attention_layer_norm, f"{p}.self_attn_layer_norm")
        norm(layer._feedforward_layer_norm, f"{p}.final_layer_norm")
        dense(layer._feedforward_intermediate_dense, f"{p}.fc1", d, ffn)
        dense(layer._feedforward_output_dense, f"{p}.fc2", ffn, d)
    norm(backbone.layer_norm, "layer_norm")


# --------------------------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------------------------


def check_architecture(found: Mapping, *, preset: str, source) -> None:
    """Raise ``ConfigError`` if the backbone kwargs ``found`` (of checkpoint ``source``) do not have
    ``preset``'s architecture; the message names each differing size."""
    details = architecture_differences(architecture_kwargs(get_preset(preset)), architecture_kwargs(dict(found)))
    if details:
        raise ConfigError(f"{str(source)!r} does not have the architecture of preset {preset!r}: {details}")


def checkpoint_kind(folder) -> str:
    """``"ct2"`` for a folder with ``model.bin``, ``"hf"`` for one with HF weights.

    Raises:
        ModelError: the folder does not exist or holds neither kind of weight file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"Whisper checkpoint folder {str(folder)!r} does not exist")
    names = {p.name for p in folder.iterdir()}
    if "model.bin" in names:
        return "ct2"
    hf_files = ("model.safetensors", "model.safetensors.index.json",
                "pytorch_model.bin", "pytorch_model.bin.index.json")
    if names & set(hf_files):
        return "hf"
    raise ModelError(
        f"{str(folder)!r} is not a Whisper checkpoint folder: expected model.bin + config.json (CTranslate2) or "
        f"config.json + model.safetensors / pytorch_model.bin (Hugging Face); found {sorted(names)}"
    )


def read_checkpoint(folder) -> tuple:
    """``(backbone_kwargs, canonical_state)`` of an HF or CTranslate2 Whisper folder."""
    if checkpoint_kind(folder) == "ct2":
        model = read_ct2_model(folder)
        return backbone_kwargs_from_ct2(model), encoder_state_from_ct2(model)
    kwargs = backbone_kwargs_from_hf_config(read_hf_config(folder))
    return kwargs, encoder_state_from_hf(read_hf_state_dict(folder), source=repr(str(folder)))


def load_checkpoint(folder, *, preset: Optional[str] = None, n_mels: Optional[int] = None,
                    dtype=None, name: Optional[str] = None) -> WhisperEncoderBackbone:
    """A ``WhisperEncoderBackbone`` with the encoder weights of an HF or CTranslate2 folder.

    Args:
        folder: the checkpoint folder (see the module docstring).
        preset: if given, the checkpoint must have this preset's architecture.
        n_mels: if given, the checkpoint must take this many mel bands (the front-end's).
        dtype: dtype policy of the backbone.
        name: the backbone's name (default ``whisper_encoder_backbone``; a classifier's is ``encoder``).

    Raises:
        ModelError: a missing, truncated or unsupported checkpoint (see ``read_ct2_model``).
        ParameterError: an unknown ``preset``.
        ConfigError: a ``preset`` or ``n_mels`` that disagrees with the checkpoint.
    """
    if preset is not None:
        get_preset(preset)  # an unknown preset fails before the checkpoint is read
    kwargs, state = read_checkpoint(folder)
    if n_mels is not None and int(n_mels) != kwargs["n_mels"]:
        raise ConfigError(
            f"{str(folder)!r} takes {kwargs['n_mels']} mel bands, but n_mels={n_mels!r} was asked "
            "(80 for Whisper up to large-v2, 128 for large-v3)"
        )
    if preset is not None:
        check_architecture(kwargs, preset=preset, source=folder)
    backbone = WhisperEncoderBackbone(**kwargs, dtype=dtype, **({"name": name} if name else {}))
    port_weights(backbone, state)
    return backbone


def save_converted(backbone: WhisperEncoderBackbone, out) -> Path:
    """Write ``backbone``'s weights to ``out`` (``X.weights.h5``) and its kwargs to ``X.config.json``.

    Raises:
        ModelError: ``out`` does not end in ``.weights.h5``.
    """
    return converted_weights.save_converted(backbone, out)


def load_converted(path, **overrides) -> WhisperEncoderBackbone:
    """A ``WhisperEncoderBackbone`` rebuilt from ``X.config.json`` with ``X.weights.h5`` loaded.

    ``overrides`` replace config entries that do not change the weights' shapes (``dropout``,
    ``name``).

    Raises:
        ModelError: a missing weights file or sidecar config.
    """
    return converted_weights.load_converted(WhisperEncoderBackbone, path, **overrides)


__all__ = [
    "backbone_kwargs_from_ct2", "backbone_kwargs_from_hf_config", "check_architecture", "checkpoint_kind",
    "encoder_state_from_ct2", "encoder_state_from_hf", "load_checkpoint", "load_converted", "port_weights",
    "read_checkpoint", "read_hf_config", "save_converted", "sidecar_config_path",
]
