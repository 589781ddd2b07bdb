"""Measure a converted Whisper encoder against its reference implementation, front-end apart.

``compare_checkpoint(folder, backbone)`` runs both on the same synthetic audio and returns the
largest absolute differences:

* ``log_mel``: ``WhisperLogMel`` vs ``transformers.WhisperFeatureExtractor`` (when installed);
* ``encoder``: the backbone vs ``ctranslate2``'s encoder (CTranslate2 folders, run with
  ``compute_type="float32"``) or ``transformers``' ``WhisperEncoder`` (HF folders), on the same
  features, the 30 s window Whisper was trained on.

The references are test requirements (``ctranslate2``, ``torch``, ``transformers``), imported
only here; a missing one is reported as ``None``.
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from ser_tf.layers.whisper_log_mel import WhisperLogMel
from ser_tf.models.whisper.backbone import WhisperEncoderBackbone, backbone_inputs
from ser_tf.models.whisper.convert import checkpoint_kind

SAMPLE_RATE = 16_000
WINDOW_SAMPLES = 30 * SAMPLE_RATE  # Whisper's 30 s input window


def synthetic_vowel(seconds: float = 3.0, *, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A vowel-like test signal, float32 in [-0.3, 0.3]: a 120 Hz harmonic source with vibrato,
    shaped by formants at 700 and 1200 Hz."""
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    f0 = 120.0 * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    y = sum(
        np.sin(k * phase) * (np.exp(-(((k * f0 - 700) / 300) ** 2)) + 0.5 * np.exp(-(((k * f0 - 1200) / 400) ** 2)))
        for k in range(1, 40)
    )
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


def _reference_log_mel(audio: np.ndarray, n_mels: int) -> Optional[np.ndarray]:
    try:
        from transformers import WhisperFeatureExtractor
    except ImportError:
        return None
    extractor = WhisperFeatureExtractor(feature_size=n_mels)
    return extractor(audio, sampling_rate=SAMPLE_RATE, return_tensors="np", padding="longest").input_features[0].T


def _reference_encoder(folder, features: np.ndarray) -> Optional[np.ndarray]:
    """``(1, frames / 2, hidden)`` from the reference implementation of ``folder``'s kind."""
    channels_first = np.ascontiguousarray(features.transpose(0, 2, 1))
    if checkpoint_kind(folder) == "ct2":
        try:
            import ctranslate2
        except ImportError:
            return None
        model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="float32")
        return np.array(model.encode(ctranslate2.StorageView.from_array(channels_first)))
    try:
        import torch
        import transformers
    except ImportError:
        return None
    model = transformers.AutoModel.from_pretrained(str(folder))
    encoder = model.get_encoder() if hasattr(model, "get_encoder") else model.model.encoder
    with torch.no_grad():
        return encoder.eval()(torch.from_numpy(channels_first)).last_hidden_state.numpy()


def compare_checkpoint(folder, backbone: WhisperEncoderBackbone, *, seconds: float = 3.0) -> Dict[str, Optional[float]]:
    """Largest absolute differences ``{"log_mel": ..., "encoder": ...}`` (``None``: no reference).

    Args:
        folder: the checkpoint folder ``backbone`` was converted from.
        backbone: the converted encoder.
        seconds: length of the synthetic vowel, padded to Whisper's 30 s window for the encoder.
    """
    audio = synthetic_vowel(seconds)
    front_end = WhisperLogMel(n_mels=backbone.n_mels)
    ours = front_end(audio[None]).numpy()[0]
    ref = _reference_log_mel(audio, backbone.n_mels)
    result = {"log_mel": None if ref is None else float(np.abs(ours - ref).max())}
    window = np.pad(audio, (0, max(0, WINDOW_SAMPLES - audio.size)))[None, :WINDOW_SAMPLES]
    features = front_end(window).numpy()
    want = _reference_encoder(folder, features)
    got = backbone(backbone_inputs(features))["sequence_output"].numpy()
    result["encoder"] = None if want is None else float(np.abs(got - want).max())
    return result
