"""Tiny random Whisper checkpoints (HF and CTranslate2) made once per session, and HF reference runs.

torch, transformers and ctranslate2 are test-only dependencies; tests that need one skip without it.
"""

import numpy as np
import pytest

# 2 layers, 64 wide, 4 heads, 80 mels: the whisper_test_tiny preset. The decoder is as small as
# WhisperConfig allows; only the encoder is read.
TINY_HF = dict(
    d_model=64, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=128, num_mel_bins=80,
    max_source_positions=1500, decoder_layers=1, decoder_attention_heads=4, decoder_ffn_dim=128,
    vocab_size=100, max_target_positions=16, pad_token_id=0, bos_token_id=1, eos_token_id=2,
    decoder_start_token_id=1,
)


@pytest.fixture(scope="session")
def hf_whisper(tmp_path_factory):
    """Folder of a tiny random ``WhisperForConditionalGeneration`` (``save_pretrained``).

    Every parameter except the sinusoidal positions is redrawn (LayerNorm gains around 1, biases
    nonzero), so that a mapping error in any tensor shows.
    """
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    model = transformers.WhisperForConditionalGeneration(transformers.WhisperConfig(**TINY_HF)).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "embed_positions" in name:
                continue
            if "layer_norm" in name and name.endswith("weight"):
                param.copy_(1.0 + 0.2 * torch.randn_like(param))
            else:
                param.copy_(0.1 * torch.randn_like(param))
    folder = tmp_path_factory.mktemp("hf") / "whisper_tiny_random"
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def ct2_whisper(hf_whisper, tmp_path_factory):
    """``convert(quantization) -> folder``: the tiny HF model converted by ctranslate2, cached."""
    ctranslate2 = pytest.importorskip("ctranslate2")
    root = tmp_path_factory.mktemp("ct2")
    folders = {}

    def convert(quantization):
        if quantization not in folders:
            out = root / quantization
            ctranslate2.converters.TransformersConverter(str(hf_whisper)).convert(str(out), quantization=quantization)
            folders[quantization] = out
        return folders[quantization]

    return convert


def hf_encoder_outputs(folder, features):
    """HF's encoder on ``features (batch, frames, n_mels)``, ``frames`` even: a list of numpy hidden states.

    ``WhisperEncoder`` only accepts ``2 * max_source_positions`` frames, so the reference is an
    encoder built with ``max_source_positions = frames / 2`` holding the checkpoint's weights and
    the first ``frames / 2`` rows of its position table: the same computation as OpenAI's model on
    a clip that is not padded to 30 s.
    """
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    full = transformers.WhisperForConditionalGeneration.from_pretrained(folder).model.encoder
    frames = features.shape[1]
    assert frames % 2 == 0, frames
    config = transformers.WhisperConfig(**{**full.config.to_dict(), "max_source_positions": frames // 2})
    encoder = transformers.models.whisper.modeling_whisper.WhisperEncoder(config).eval()
    state = full.state_dict()
    state["embed_positions.weight"] = state["embed_positions.weight"][: frames // 2]
    encoder.load_state_dict(state)
    with torch.no_grad():
        out = encoder(torch.from_numpy(np.ascontiguousarray(features.transpose(0, 2, 1))), output_hidden_states=True)
    return [h.numpy() for h in out.hidden_states], out.last_hidden_state.numpy()


@pytest.fixture
def features(rng):
    """Two random 'log-mel' inputs of 200 frames (2 s), in Whisper's value range."""
    return (0.5 * rng.standard_normal((2, 200, 80))).astype(np.float32)
