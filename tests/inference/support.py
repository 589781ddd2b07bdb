"""Test support for inference: generated "speech", a tiny trained run folder, a fake microphone.

The run folder holds a real ``cnn_lstm_small`` (shrunk to a 1 s window, 16 mel bands and a few
filters) trained for a few seconds to tell three synthetic voices apart, so tests can check that
the right label comes out, not just that something does:

- ``neutral``: syllable-like bursts of a 120 Hz harmonic tone;
- ``happy``: the same bursts at 600 Hz;
- ``sad``: bursts of white noise.

The fake microphone is an ALSA ``file`` PCM: alsa-lib reads ``$XDG_CONFIG_HOME/alsa/asoundrc``,
whose default capture device then plays back a raw 16-bit file. PortAudio, sounddevice and the CLI
run unmodified on top of it.
"""

from __future__ import annotations

import atexit
import ctypes.util
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

SR = 16_000
CLASSES = ("neutral", "happy", "sad")
WINDOW_S = 1.0
_PITCH = {"neutral": 120.0, "happy": 600.0}


def voice(kind: str, seconds: float, *, amp: float = 0.3, seed: int = 0, sr: int = SR) -> np.ndarray:
    """``seconds`` of syllable-like bursts (3 per second, with pauses) of the voice ``kind``.

    Returns:
        float32 ``(round(seconds * sr),)`` with peaks near ``amp``.
    """
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    envelope = np.clip(np.sin(2 * np.pi * (3.0 * t + rng.uniform(0, 1))), 0.0, None)
    if kind == "sad":
        carrier = 0.5 * rng.standard_normal(n)
    else:
        carrier = sum(np.sin(2 * np.pi * _PITCH[kind] * k * t) / k for k in range(1, 4))
    noise = 1e-3 * rng.standard_normal(n)  # a little room noise, so pauses are not digital zero
    return (amp * envelope * carrier + noise).astype(np.float32)


def tiny_config() -> dict:
    from ser_tf.settings import SerConfig

    config = SerConfig().to_dict()
    config["audio"]["duration"] = WINDOW_S
    config["features"]["n_mels"] = 16
    config["model"].update(
        {"arch": "cnn_lstm_small", "conv_filters": [4, 8], "rnn_units": 8, "dense_units": 8, "dropout": 0.0}
    )
    return config


def _train(model, config) -> None:
    import keras

    rng = np.random.default_rng(1)
    x = np.stack([voice(CLASSES[i % 3], WINDOW_S, amp=rng.uniform(0.05, 0.4), seed=i) for i in range(96)])
    y = np.arange(96) % 3
    # BatchNorm's moving statistics (momentum 0.99) would need hundreds of steps to catch up
    # with a few seconds of training; without this the model is right in training mode only.
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.5
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy",
                  jit_compile=False)
    # Held-out probes, loud and quiet: training stops once all are confidently right.
    probe = np.stack([voice(c, WINDOW_S, amp=a, seed=1000 + i)
                      for a in (0.05, 0.3) for i, c in enumerate(CLASSES)])
    want = np.arange(len(probe)) % 3
    for _ in range(6):  # three rounds normally suffice; more keep the fixture robust
        model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        p = model.predict(probe, verbose=0)
        if (p.argmax(axis=1) == want).all() and p.max(axis=1).min() > 0.8:
            return
    raise RuntimeError("the tiny test model did not learn the three synthetic voices")


@functools.lru_cache(maxsize=None)
def _trained_files() -> Path:
    """Build and train the tiny model once per process; returns a folder with its run files."""
    import keras

    from ser_tf.config import dump_config
    from ser_tf.models.registry import build_model
    from ser_tf.runs import RunFolder, write_labels

    keras.utils.set_random_seed(1)
    config = tiny_config()
    model = build_model("cnn_lstm_small", num_classes=len(CLASSES), config=config)
    _train(model, config)
    folder = RunFolder(tempfile.mkdtemp(prefix="ser_tf_inference_model_"))
    atexit.register(shutil.rmtree, folder.path, ignore_errors=True)
    for path in folder.model_files:
        model.save(path)
    # Not the DEMO corpus: its own synthetic voices, which inference may pick without --model.
    write_labels(folder, classes=CLASSES, label_set="custom", sample_rate=SR, duration=WINDOW_S,
                 arch="cnn_lstm_small", demo_data=False, corpora=["synthetic-test-voices"])
    folder.config.write_text(dump_config(config), encoding="utf-8")
    return folder.path


def make_run_folder(models_dir: Path, *, name: str = "cnn_lstm_small-20250101-000000",
                    latest: bool = True) -> Path:
    """Write a run folder (both models, labels and config; see ``ser_tf.runs``) under ``models_dir``.

    With ``latest``, the ``latest`` pointer names it, as ``train.py`` leaves it.
    """
    from ser_tf.runs import RunFolder, point_latest

    run = RunFolder(Path(models_dir) / name)
    shutil.copytree(_trained_files(), run.path)
    if latest:
        point_latest(run)
    return run.path


def portaudio_missing() -> bool:
    return ctypes.util.find_library("portaudio") is None


PORTAUDIO_SKIP = "libportaudio2 is not installed (apt-get install libportaudio2); CI installs it"


def fake_microphone(root: Path, audio: np.ndarray) -> Path:
    """An ``XDG_CONFIG_HOME`` whose ALSA default capture device plays ``audio`` (float, 16 kHz mono).

    Returns:
        the folder to put in ``XDG_CONFIG_HOME``.
    """
    root = Path(root)
    (root / "alsa").mkdir(parents=True, exist_ok=True)
    raw = root / "microphone.raw"
    pcm16 = np.clip(np.round(np.asarray(audio) * 32768.0), -32768, 32767).astype("<i2")
    raw.write_bytes(pcm16.tobytes())
    # plug converts whatever PortAudio asks for to what the file holds: S16_LE, 16 kHz, mono.
    (root / "alsa" / "asoundrc").write_text(
        f"""pcm.!default {{
    type plug
    slave {{
        pcm "ser_tf_test_mic"
        format S16_LE
        rate {SR}
        channels 1
    }}
}}
pcm.ser_tf_test_mic {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{raw}"
    format "raw"
}}
""",
        encoding="utf-8",
    )
    return root


def pcm16(audio: Sequence[float]) -> np.ndarray:
    """``audio`` as the fake microphone returns it: quantised to 16 bits, back to float32."""
    q = np.clip(np.round(np.asarray(audio) * 32768.0), -32768, 32767)
    return (q / 32768.0).astype(np.float32)
