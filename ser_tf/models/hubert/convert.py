"""Convert Hugging Face HuBERT / wav2vec 2.0 checkpoints to ``HubertBackbone`` weights.

As in keras-hub, conversion is split in two. This module is the library half: pure functions that
map an HF ``config.json`` to backbone kwargs and port each tensor (unit-tested on tiny configs),
``load_hf_checkpoint`` that applies them to a folder read by ``hf_checkpoint.py``, and the
converted-weights format (``X.weights.h5`` + ``X.config.json``) that ``load_backbone`` and
pretraining use. The other half, the comparison with the ``transformers`` reference and the
command line, is ``ser_tf/tools/convert_hubert.py``::

    python -m ser_tf.tools.convert_hubert --checkpoint ~/ckpt/hubert-base-ls960 \\
        --out models/pretrained/hubert_base.weights.h5 [--compare]

The folder is what ``huggingface-cli download facebook/hubert-base-ls960 --local-dir DIR`` writes:
``config.json``, ``model.safetensors`` (or ``pytorch_model.bin``, which needs torch), and
optionally ``preprocessor_config.json``. Nothing is downloaded here. ``save_converted`` also
writes ``X.config.json`` (the backbone kwargs), so ``load_converted(X.weights.h5)`` rebuilds the
right architecture.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, List, Mapping, Optional

import numpy as np

from ser_tf.constants import SAMPLE_RATE, samples_for
from ser_tf.errors import ModelError
from ser_tf.models import converted_weights
from ser_tf.models.converted_weights import sidecar_config_path  # noqa: F401 - part of this module's API
from ser_tf.models.hubert.hf_checkpoint import (  # noqa: F401 - re-exported for convenience
    SUPPORTED_MODEL_TYPES,
    read_hf_config,
    read_hf_state_dict,
    read_preprocessor_config,
    read_safetensors,
)

log = logging.getLogger(__name__)

# Prefixes under which task checkpoints (…ForCTC, …ForPreTraining, …ForSequenceClassification)
# store the base model; a bare HubertModel / Wav2Vec2Model has none.
_BASE_PREFIXES = ("hubert.", "wav2vec2.")
# HF config defaults (HubertConfig / Wav2Vec2Config) for keys an older config.json may omit.
_HF_DEFAULTS = {
    "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
    "hidden_act": "gelu", "feat_extract_activation": "gelu", "feat_extract_norm": "group",
    "conv_dim": [512] * 7, "conv_kernel": [10, 3, 3, 3, 3, 2, 2], "conv_stride": [5, 2, 2, 2, 2, 2, 2],
    "conv_bias": False, "num_conv_pos_embeddings": 128, "num_conv_pos_embedding_groups": 16,
    "conv_pos_batch_norm": False, "do_stable_layer_norm": False, "feat_proj_layer_norm": True,
    "layer_norm_eps": 1e-5, "hidden_dropout": 0.1, "feat_proj_dropout": 0.0, "apply_spec_augment": True,
    "mask_time_prob": 0.05, "mask_time_length": 10, "add_adapter": False, "adapter_attn_dim": None,
}


# --------------------------------------------------------------------------------------------
# Pure mapping functions
# --------------------------------------------------------------------------------------------


def backbone_kwargs_from_hf_config(hf_config: Mapping, *, preprocessor: Optional[Mapping] = None) -> dict:
    """``HubertBackbone`` kwargs equivalent to an HF HuBERT / wav2vec2 ``config.json``.

    ``preprocessor`` is ``preprocessor_config.json``; its ``do_normalize`` becomes
    ``normalize_waveform`` (False when absent, the fairseq base models' training condition).

    Raises:
        ModelError: an unsupported model type or feature (non-GELU activations, batch-norm
            position conv, adapters, a LayerNorm epsilon other than 1e-5).
    """
    model_type = hf_config.get("model_type")
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ModelError(f"model_type {model_type!r} is not supported; expected one of {SUPPORTED_MODEL_TYPES}")
    c = {**_HF_DEFAULTS, **hf_config}
    for key in ("hidden_act", "feat_extract_activation"):
        if c[key] != "gelu":
            raise ModelError(f"config {key}={c[key]!r} is not supported; expected 'gelu'")
    if c["conv_pos_batch_norm"]:
        raise ModelError("config conv_pos_batch_norm=True is not supported (weight-normed position conv only)")
    if c["add_adapter"] or c["adapter_attn_dim"] is not None:
        raise ModelError("wav2vec2 adapters (add_adapter / adapter_attn_dim) are not supported")
    if abs(float(c["layer_norm_eps"]) - 1e-5) > 1e-12:
        raise ModelError(f"config layer_norm_eps={c['layer_norm_eps']!r} is not supported; expected 1e-05")
    if model_type == "wav2vec2":
        c["feat_proj_layer_norm"] = True  # wav2vec2's projection always has its LayerNorm
    return {
        "num_layers": int(c["num_hidden_layers"]),
        "hidden_dim": int(c["hidden_size"]),
        "num_heads": int(c["num_attention_heads"]),
        "intermediate_dim": int(c["intermediate_size"]),
        "conv_dims": [int(v) for v in c["conv_dim"]],
        "conv_kernels": [int(v) for v in c["conv_kernel"]],
        "conv_strides": [int(v) for v in c["conv_stride"]],
        "feature_norm": c["feat_extract_norm"],
        "normalize_first": bool(c["do_stable_layer_norm"]),
        "conv_bias": bool(c["conv_bias"]),
        "pos_conv_kernel": int(c["num_conv_pos_embeddings"]),
        "pos_conv_groups": int(c["num_conv_pos_embedding_groups"]),
        "feature_projection_layer_norm": bool(c["feat_proj_layer_norm"]),
        "dropout": float(c["hidden_dropout"]),
        "feature_dropout": float(c["feat_proj_dropout"]),
        "mask_time_prob": float(c["mask_time_prob"]) if c["apply_spec_augment"] else 0.0,
        "mask_time_length": int(c["mask_time_length"]),
        "normalize_waveform": bool((preprocessor or {}).get("do_normalize", False)),
    }


def strip_base_prefix(state: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Drop the ``hubert.`` / ``wav2vec2.`` prefix of task checkpoints; other keys stay as they are."""
    out = {}
    for key, value in state.items():
        for prefix in _BASE_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix):]
                break
        out[key] = value
    return out


def _linear(w):
    return np.transpose(w)  # torch (out, in) -> keras (in, out)


def _conv(w):
    return np.transpose(w, (2, 1, 0))  # torch (out, in, k) -> keras (k, in, out)


def _pos_conv_weights(state: Mapping[str, np.ndarray]):
    """``(weight_g (k,), weight_v (k, in, out))`` from any of torch's three storage conventions."""
    base = "encoder.pos_conv_embed.conv."
    for g_key, v_key in ((base + "parametrizations.weight.original0", base + "parametrizations.weight.original1"),
                         (base + "weight_g", base + "weight_v")):
        if g_key in state and v_key in state:
            g, v = state[g_key], state[v_key]
            if g.ndim != 3 or g.shape[:2] != (1, 1):
                raise ModelError(f"{g_key} has shape {g.shape}; expected (1, 1, kernel) from weight_norm(dim=2)")
            return g.reshape(-1), _conv(v), (g_key, v_key)
    if base + "weight" in state:  # weight norm already folded in: g = ||w|| per tap gives the same kernel
        w = _conv(state[base + "weight"])
        return np.sqrt(np.sum(np.square(w), axis=(1, 2))), w, (base + "weight",)
    raise ModelError(
        f"checkpoint lacks the position conv weights: expected {base}parametrizations.weight.original0/1, "
        f"{base}weight_g/weight_v or {base}weight"
    )


def weight_map(backbone) -> List[tuple]:
    """``[(keras_variable, hf_key, transform), ...]`` for every backbone weight except the position
    conv kernel (see ``_pos_conv_weights``) and the optional mask embedding."""
    pairs = []
    encoder = backbone.feature_encoder
    for i, (conv, norm) in enumerate(zip(encoder.conv_layers, encoder.norm_layers)):
        prefix = f"feature_extractor.conv_layers.{i}."
        pairs.append((conv.kernel, prefix + "conv.weight", _conv))
        if conv.use_bias:
            pairs.append((conv.bias, prefix + "conv.bias", None))
        if norm is not None:
            pairs += [(norm.gamma, prefix + "layer_norm.weight", None), (norm.beta, prefix + "layer_norm.bias", None)]
    projection = backbone.feature_projection
    if projection.layer_norm is not None:
        pairs += [(projection.layer_norm.gamma, "feature_projection.layer_norm.weight", None),
                  (projection.layer_norm.beta, "feature_projection.layer_norm.bias", None)]
    pairs += [(projection.projection.kernel, "feature_projection.projection.weight", _linear),
              (projection.projection.bias, "feature_projection.projection.bias", None),
              (backbone.pos_conv_embed.bias, "encoder.pos_conv_embed.conv.bias", None),
              (backbone.encoder_layer_norm.gamma, "encoder.layer_norm.weight", None),
              (backbone.encoder_layer_norm.beta, "encoder.layer_norm.bias", None)]
    heads, head_dim = backbone.num_heads, backbone.hidden_dim // backbone.num_heads
    for i, layer in enumerate(backbone.transformer_layers):
        prefix = f"encoder.layers.{i}."
        attention = layer._self_attention_layer
        for dense, name in ((attention._query_dense, "q_proj"), (attention._key_dense, "k_proj"),
                            (attention._value_dense, "v_proj")):
            pairs.append((dense.kernel, f"{prefix}attention.{name}.weight",
                          lambda w: _linear(w).reshape(w.shape[1], heads, head_dim)))
            pairs.append((dense.bias, f"{prefix}attention.{name}.bias", lambda b: b.reshape(heads, head_dim)))
        pairs.append((attention._output_dense.kernel, f"{prefix}attention.out_proj.weight",
                      lambda w: _linear(w).reshape(heads, head_dim, w.shape[0])))
        pairs.append((attention._output_dense.bias, f"{prefix}attention.out_proj.bias", None))
        for norm, name in ((layer._self_attention_layer_norm, "layer_norm"),
                           (layer._feedforward_layer_norm, "final_layer_norm")):
            pairs += [(norm.gamma, f"{prefix}{name}.weight", None), (norm.beta, f"{prefix}{name}.bias", None)]
        for dense, name in ((layer._feedforward_intermediate_dense, "intermediate_dense"),
                            (layer._feedforward_output_dense, "output_dense")):
            pairs += [(dense.kernel, f"{prefix}feed_forward.{name}.weight", _linear),
                      (dense.bias, f"{prefix}feed_forward.{name}.bias", None)]
    return pairs


def _assign(variable, value, key):
    value = np.asarray(value, dtype=np.float32)
    if tuple(value.shape) != tuple(variable.shape):
        raise ModelError(
            f"checkpoint tensor {key!r} has shape {tuple(value.shape)} after conversion, but "
            f"{variable.path} expects {tuple(variable.shape)}"
        )
    variable.assign(value)


def port_weights(backbone, state: Mapping[str, np.ndarray]) -> List[str]:
    """Copy an HF state dict (prefixed or not) into ``backbone``; returns the checkpoint keys not used.

    Unused keys are task heads (``lm_head``, ``quantizer``, ``project_q`` ...), never backbone
    weights: every backbone tensor must be present with the right shape.

    Raises:
        ModelError: a missing tensor (named), or a shape mismatch (naming the tensor and both shapes).
    """
    state = strip_base_prefix(state)
    used = set()
    for variable, key, transform in weight_map(backbone):
        if key not in state:
            raise ModelError(f"checkpoint lacks tensor {key!r} (needed for {variable.path}, shape {tuple(variable.shape)})")
        value = state[key]
        _assign(variable, transform(value) if transform else value, key)
        used.add(key)
    g, v, keys = _pos_conv_weights(state)
    _assign(backbone.pos_conv_embed.weight_v, v, keys[-1])
    _assign(backbone.pos_conv_embed.weight_g, g, keys[0])
    used.update(keys)
    if "masked_spec_embed" in state:  # present only when the checkpoint was trained with masking
        _assign(backbone.time_masking.mask_embedding, state["masked_spec_embed"], "masked_spec_embed")
        used.add("masked_spec_embed")
    return sorted(set(state) - used)


# --------------------------------------------------------------------------------------------
# Whole checkpoints
# --------------------------------------------------------------------------------------------


def load_hf_checkpoint(folder, **overrides):
    """Build a ``HubertBackbone`` from an HF checkpoint folder and load its weights.

    ``overrides`` replace backbone kwargs (e.g. ``dropout=0.0``, ``mask_time_prob=0.0``) but not
    shape-defining ones.
    """
    from ser_tf.models.hubert.backbone import HubertBackbone, architecture_kwargs

    kwargs = backbone_kwargs_from_hf_config(read_hf_config(folder), preprocessor=read_preprocessor_config(folder))
    state = read_hf_state_dict(folder)
    clash = set(overrides) & set(architecture_kwargs(kwargs))
    if clash:
        raise ModelError(f"cannot override shape-defining backbone arguments {sorted(clash)} of {str(folder)!r}")
    backbone = HubertBackbone(**{**kwargs, **overrides})
    unused = port_weights(backbone, state)
    if unused:
        log.info("%s: %d checkpoint tensors outside the backbone were not used: %s",
                 folder, len(unused), ", ".join(unused[:8]) + (" ..." if len(unused) > 8 else ""))
    return backbone


def save_converted(backbone, out) -> Path:
    """Write ``backbone``'s weights to ``out`` (must end in ``.weights.h5``) and its kwargs beside it."""
    return converted_weights.save_converted(backbone, out)


def load_converted(path, **overrides):
    """A ``HubertBackbone`` rebuilt from ``X.config.json`` with ``X.weights.h5`` loaded."""
    from ser_tf.models.hubert.backbone import HubertBackbone

    return converted_weights.load_converted(HubertBackbone, path, **overrides)
