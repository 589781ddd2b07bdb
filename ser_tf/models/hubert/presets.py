"""Architecture presets of the HuBERT / wav2vec 2.0 backbone (keyword arguments of ``HubertBackbone``).

The public checkpoints (``facebook/hubert-base-ls960``, ``facebook/hubert-large-ll60k``,
``facebook/wav2vec2-base``) share the conv front-end: 7 convs of 512 channels, kernels
10,3,3,3,3,2,2 and strides 5,2,2,2,2,2,2, i.e. one 512-d frame per 20 ms of 16 kHz audio. A preset
only fixes the shape; the weights come from a converted checkpoint (see ``convert.py``).
"""

from __future__ import annotations

from typing import Dict

from ser_tf.models.preset_table import describe_presets, preset_kwargs

_CONV = {
    "conv_dims": [512] * 7,
    "conv_kernels": [10, 3, 3, 3, 3, 2, 2],
    "conv_strides": [5, 2, 2, 2, 2, 2, 2],
}

_BASE = {
    "num_layers": 12,
    "hidden_dim": 768,
    "num_heads": 12,
    "intermediate_dim": 3072,
    **_CONV,
    "feature_norm": "group",  # GroupNorm on the first conv only
    "normalize_first": False,  # post-LN transformer, encoder LayerNorm before the layers
    "conv_bias": False,
    "pos_conv_kernel": 128,
    "pos_conv_groups": 16,
    "feature_projection_layer_norm": True,
    "dropout": 0.1,
    "feature_dropout": 0.1,
    "mask_time_prob": 0.05,
    "mask_time_length": 10,
    "normalize_waveform": False,  # fairseq trained the base models on unnormalised audio
}

PRESETS: Dict[str, dict] = {
    "hubert_base": {
        "description": "HuBERT base (facebook/hubert-base-ls960): 12 layers, 768 wide, 95M parameters",
        "kwargs": dict(_BASE),
    },
    "hubert_large": {
        "description": "HuBERT large (facebook/hubert-large-ll60k): 24 pre-LN layers, 1024 wide, 316M",
        "kwargs": {
            **_BASE,
            "num_layers": 24,
            "hidden_dim": 1024,
            "num_heads": 16,
            "intermediate_dim": 4096,
            "feature_norm": "layer",  # LayerNorm after every conv
            "normalize_first": True,  # "stable layer norm": pre-LN, encoder LayerNorm at the end
            "conv_bias": True,
            "feature_dropout": 0.0,
            "normalize_waveform": True,
        },
    },
    "wav2vec2_base": {
        "description": "wav2vec 2.0 base (facebook/wav2vec2-base): same backbone as HuBERT base",
        "kwargs": {**_BASE, "feature_dropout": 0.1},
    },
    "hubert_small": {
        "description": "a small random HuBERT for from-scratch pretraining on a CPU (4 layers, 256 wide, 4.5M)",
        "kwargs": {
            **_BASE,
            "num_layers": 4,
            "hidden_dim": 256,
            "num_heads": 4,
            "intermediate_dim": 1024,
            "conv_dims": [256] * 7,
            "pos_conv_kernel": 64,
            "pos_conv_groups": 16,
        },
    },
    "hubert_tiny": {
        "description": "a tiny random HuBERT for tests and smoke runs (2 layers, 32 wide)",
        "kwargs": {
            **_BASE,
            "num_layers": 2,
            "hidden_dim": 32,
            "num_heads": 2,
            "intermediate_dim": 64,
            "conv_dims": [32] * 7,
            "pos_conv_kernel": 16,
            "pos_conv_groups": 4,
        },
    },
}


def list_presets() -> Dict[str, str]:
    """``{name: description}`` of every preset."""
    return describe_presets(PRESETS)


def get_preset(name: str) -> dict:
    """A fresh copy of the ``HubertBackbone`` keyword arguments of preset ``name``.

    Raises:
        ParameterError: unknown ``name``; the message lists the presets.
    """
    return preset_kwargs(PRESETS, name, family="HuBERT")
