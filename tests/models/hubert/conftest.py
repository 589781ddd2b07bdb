"""Tiny random Hugging Face checkpoints (torch + transformers, test-only deps) saved once per session."""

import numpy as np
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


@pytest.fixture(scope="session")
def hf_checkpoints(tmp_path_factory):
    """``{name: folder}`` of tiny randomly initialised HF models written with ``save_pretrained``."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("hf")
    folders = {}
    for seed, (name, (config_cls, model_cls, overrides)) in enumerate(CHECKPOINTS.items()):
        torch.manual_seed(seed)
        config = getattr(transformers, config_cls)(**TINY, **overrides)
        model = getattr(transformers, model_cls)(config).eval()
        model.save_pretrained(root / name)
        folders[name] = root / name
    return folders


@pytest.fixture
def audio(rng):
    """Two 1 s clips of random audio at 16 kHz (no exact zeros: see test_convert's note)."""
    return (0.1 * rng.standard_normal((2, 16000))).astype(np.float32)
