"""Architecture presets of the Whisper encoder (keyword arguments of ``WhisperEncoderBackbone``).

Sizes of OpenAI's checkpoints (``openai/whisper-*`` on the Hugging Face hub, and their
CTranslate2 conversions); only the encoder is kept. All use 64-wide heads, a 4x feed-forward and
1500 positions (30 s). A preset only fixes the shape; weights come from a converted checkpoint
(see ``convert.py``).
"""

from __future__ import annotations

from typing import Dict

from ser_tf.models.preset_table import describe_presets, preset_kwargs


def _sizes(num_layers: int, hidden_dim: int, *, n_mels: int = 80) -> dict:
    return {
        "num_layers": num_layers,
        "hidden_dim": hidden_dim,
        "num_heads": hidden_dim // 64,
        "intermediate_dim": 4 * hidden_dim,
        "n_mels": n_mels,
        "max_source_positions": 1500,
    }


PRESETS: Dict[str, dict] = {
    "whisper_tiny": {
        "description": "Whisper tiny encoder (openai/whisper-tiny): 4 layers, 384 wide, 8M parameters",
        "kwargs": _sizes(4, 384),
    },
    "whisper_tiny_en": {
        "description": "Whisper tiny.en encoder (openai/whisper-tiny.en): 4 layers, 384 wide, 8M parameters",
        "kwargs": _sizes(4, 384),
    },
    "whisper_base": {
        "description": "Whisper base encoder (openai/whisper-base): 6 layers, 512 wide, 20M parameters",
        "kwargs": _sizes(6, 512),
    },
    "whisper_small": {
        "description": "Whisper small encoder (openai/whisper-small): 12 layers, 768 wide, 88M parameters",
        "kwargs": _sizes(12, 768),
    },
    "whisper_medium": {
        "description": "Whisper medium encoder (openai/whisper-medium): 24 layers, 1024 wide, 307M parameters",
        "kwargs": _sizes(24, 1024),
    },
    "whisper_large_v3": {
        "description": "Whisper large-v3 encoder (openai/whisper-large-v3): 32 layers, 1280 wide, 128 mels, 635M",
        "kwargs": _sizes(32, 1280, n_mels=128),
    },
    "whisper_test_tiny": {
        "description": "a tiny random Whisper encoder for tests (2 layers, 64 wide, 4 heads, 80 mels)",
        "kwargs": {
            "num_layers": 2,
            "hidden_dim": 64,
            "num_heads": 4,
            "intermediate_dim": 128,
            "n_mels": 80,
            "max_source_positions": 1500,
        },
    },
}


def list_presets() -> Dict[str, str]:
    """``{name: description}`` of every preset."""
    return describe_presets(PRESETS)


def get_preset(name: str) -> dict:
    """A fresh copy of the ``WhisperEncoderBackbone`` keyword arguments of preset ``name``.

    Raises:
        ParameterError: unknown ``name``; the message lists the presets.
    """
    return preset_kwargs(PRESETS, name, family="Whisper")
