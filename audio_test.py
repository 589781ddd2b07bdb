#!/usr/bin/env python
"""Predict the emotion in speech from audio files, a folder, or the microphone.

    python audio_test.py --file clip.wav
    python audio_test.py --dir recordings/ --csv predictions.csv
    python audio_test.py --record-duration 4
    python audio_test.py --stream

Run ``python audio_test.py --help`` for every option. The logic lives in ``ser_tf.inference``.
"""

from ser_tf.inference.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
