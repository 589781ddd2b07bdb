"""Calibration windows for int8 quantisation: a few hundred clips of a corpus, as the model sees them.

``--calibration-data ravdess=PATH`` (any ``--data`` spec of ``train.py``), or ``demo`` for the
synthetic demo corpus. Clips are taken evenly across the corpus's sorted list (every speaker and
emotion represented, and the same clips on every run), decoded at 16 kHz, and centred in the
model's window (zero-padded or cropped as in evaluation).
"""

from __future__ import annotations

from typing import List

import numpy as np

from ser_tf.constants import SAMPLE_RATE
from ser_tf.data.audio_io import load_audio
from ser_tf.data.corpora import scan_corpus
from ser_tf.data.cropping import fix_length_numpy
from ser_tf.data.manifest import parse_data_spec
from ser_tf.errors import ExportError, ParameterError

# Clips read for calibration by default: TFLite's guidance is "a few hundred" samples.
DEFAULT_CALIBRATION_CLIPS = 300


def calibration_windows(spec: str, *, window_samples: int, limit: int = DEFAULT_CALIBRATION_CLIPS,
                        sample_rate: int = SAMPLE_RATE) -> List[np.ndarray]:
    """Up to ``limit`` float32 windows ``(window_samples,)`` from the corpus ``spec``.

    Args:
        spec: ``corpus=PATH`` (e.g. ``ravdess=/data/ravdess``) or ``demo``.
        window_samples: the model's input length in samples.
        limit: clips to take (>= 1), spread evenly over the corpus.
        sample_rate: the model's rate, Hz.

    Raises:
        ExportError: the corpus cannot be scanned or holds no clip (the message names it).
        ParameterError: a bad ``spec`` or ``limit``.
    """
    if int(limit) < 1:
        raise ParameterError(f"calibration clips must be >= 1, got {limit!r}")
    name, root = parse_data_spec(spec)
    records = scan_corpus(name, root).records
    if not records:
        raise ExportError(f"calibration data {spec!r}: no clip found")
    picks = np.unique(np.linspace(0, len(records) - 1, num=min(int(limit), len(records))).round().astype(int))
    return [fix_length_numpy(load_audio(records[i].path, sample_rate=sample_rate), window_samples)
            for i in picks]
