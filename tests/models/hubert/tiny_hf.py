"""Tiny random Hugging Face HuBERT / wav2vec2 checkpoints, the reference of the conversion tests.

Shared by ``tests/models/hubert`` (parity of the port) and ``tests/tools`` (the conversion CLI);
building them needs torch + transformers (test-only dependencies), so callers skip without them.
"""

import pytest

# Same sizes as the hubert_tiny preset, so converted weights fit it.
TINY = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
    conv_dim=[32] * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
)
CHECKPOINTS = {
    # name: (config class, model class, config overrides)
    "hubert_base_style": ("HubertConfig", "HubertModel", {}),
    "hubert_large_style": ("HubertConfig", "HubertModel",
                           {"feat_extract_norm": "layer", "do_stable_layer_norm": True, "conv_bias": True}),
    "wav2vec2_base_style": ("Wav2Vec2Config", "Wav2Vec2Model", {}),
}


def save_tiny_checkpoints(root):
    """``{name: folder}`` of tiny randomly initialised HF models written under ``root`` with
    ``save_pretrained``; skips the calling test without torch or transformers."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folders = {}
    for seed, (name, (config_cls, model_cls, overrides)) in enumerate(CHECKPOINTS.items()):
        torch.manual_seed(seed)
        config = getattr(transformers, config_cls)(**TINY, **overrides)
        model = getattr(transformers, model_cls)(config).eval()
        model.save_pretrained(root / name)
        folders[name] = root / name
    return folders
