"""A generated folder corpus with an ordinary duplicate and a label conflict, for the tests of
``ser_tf.data.manifest``'s duplicate guard through the scanner, the summary, train.py's report and
evaluate.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

EMOTIONS = ("angry", "disgust", "fearful", "happy")


def write_conflict_corpus(root) -> dict:
    """``<root>/<emotion>/SP<k>_<n>.wav`` (4 emotions x 3 speakers x 2 clips of 0.1 s noise), plus:

    * ``happy/SP0_copy.wav``: a byte-identical copy of ``happy/SP0_0.wav``, same label (an
      ordinary duplicate);
    * ``disgust/SP1_clash.wav`` and ``fearful/SP1_clash.wav``: one clip under two emotions (a
      label conflict).

    Returns ``{"original", "copy", "disgust", "fearful"}``: the four special paths as strings.
    """
    root = Path(root)
    rng = np.random.default_rng(0)
    for emotion in EMOTIONS:
        (root / emotion).mkdir(parents=True, exist_ok=True)
        for speaker in range(3):
            for n in range(2):
                clip = (0.1 * rng.standard_normal(1600)).astype(np.float32)
                sf.write(str(root / emotion / f"SP{speaker}_{n}.wav"), clip, 16000, subtype="PCM_16")
    shutil.copyfile(root / "happy" / "SP0_0.wav", root / "happy" / "SP0_copy.wav")
    clash = (0.1 * rng.standard_normal(1600)).astype(np.float32)
    sf.write(str(root / "disgust" / "SP1_clash.wav"), clash, 16000, subtype="PCM_16")
    shutil.copyfile(root / "disgust" / "SP1_clash.wav", root / "fearful" / "SP1_clash.wav")
    return {"original": str(root / "happy" / "SP0_0.wav"), "copy": str(root / "happy" / "SP0_copy.wav"),
            "disgust": str(root / "disgust" / "SP1_clash.wav"),
            "fearful": str(root / "fearful" / "SP1_clash.wav")}
